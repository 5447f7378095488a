# promotesim: the two commands a newcomer needs are `make run` and `make test`.
GO      ?= go
PKGS    := ./...
# The harness and kernel are what -race protects: they are the only places a
# goroutine may appear (the explorer's worker pool, tests).
RACEPKGS := ./...

.PHONY: run test build browser view race lint bench soak fmt tools orderings figures shards

## run: the main job with sensible defaults: explore seeded swarm worlds on
## every core for about 20 seconds and print the summary (a failing seed is
## shrunk, printed and written to out/counterexamples, which git ignores).
## RUN_PROFILE v15 is PolarDB's code as it is: it finds docs/findings.md's
## bugs and exits 1; RUN_PROFILE=v15-fixed is the clean baseline.
RUN_DURATION ?= 20s
RUN_PROFILE  ?= v15
run:
	$(GO) run ./cmd/promotesim explore -profile $(RUN_PROFILE) -duration $(RUN_DURATION) -out out/counterexamples

## test: the whole suite (well under 5 minutes on 2 cores). Every rapid
## state machine (simtest.Check) runs its fixed seed set, then one fresh
## seed; both are logged with the command that reproduces them (-v shows
## them on success too, a failure always), so the fixed set passes or fails
## the same way on a commit and a fresh-seed failure is one copy-paste away.
## PROMOTESIM_RAPID_FRESH=0 runs the fixed set alone. Explorer and shrinker
## tests run on seed and attempt counts; testdata/regressions replays every
## failure ever found as a script (TestRegressions).
## The viewer's browser tests skip without Chromium (PROMOTESIM_BROWSER=require
## fails instead; make browser runs just them)
## The script parser's fuzz test then runs FUZZ_TIME beyond its committed
## corpus (scenarios/script/testdata/fuzz; the corpus alone runs in go test).
## The budget is a count of inputs (Nx), never a duration: Go 1.26's fuzz
## coordinator can fail a duration-bounded run with a bare "context deadline
## exceeded" and no failing input when the deadline races a busy worker
## (golang/go#75804, fixed in Go 1.27). A count has no deadline to race.
FUZZ_TIME ?= 20000x
test:
	$(GO) test -count=1 $(PKGS)
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZ_TIME) ./scenarios/script/

## build: the command as a binary at bin/promotesim (git ignores bin/); the
## README's examples run it, since `go run` reports every non-zero exit
## status as 1 and so hides 2 (bad usage) and 130 (interrupted)
build:
	$(GO) build -o bin/promotesim ./cmd/promotesim

## browser: the viewer's tests in headless Chromium, required; screenshots
## go to PROMOTESIM_SCREENSHOTS (default: $TMPDIR/promotesim-screenshots)
browser:
	PROMOTESIM_BROWSER=require $(GO) test -count=1 -run Browser -v ./scenarios/view/serve/

## view: the step-through viewer on the switchover demo (prints its URL)
view:
	$(GO) run ./cmd/promotesim view switchover

## race: the suite under the race detector
race:
	$(GO) test -count=1 -race $(RACEPKGS)

## lint: go vet, staticcheck (pinned as a Go tool dependency in go.mod), gofmt
lint:
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## bench: every benchmark, with allocations; pipe through benchstat for medians
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 $(PKGS)

## soak: long randomized runs (not part of make test): the rapid state
## machines with many more checks and fresh random seeds, each logged with
## its reproduce command (make test runs them on fixed seeds plus one fresh
## seed, simtest.Check; PROMOTESIM_RAPID_RANDOM=1 turns that off);
## TestClusterProperties runs SOAK_CHECKS programs (5000 took 9 s alone),
## every Soak test (enabled by PROMOTESIM_SOAK), the script parser's fuzzer,
## then the no-false-alarm soaks README's "No false alarms" names: SOAK_SEEDS
## worlds of v15-fixed under each scheduler of SOAK_SCHEDS, and of v11-fixed
## with fence none and epoch under each of SOAK_V11_SCHEDS (every seed run,
## failures counted; every soak runs even after one fails, and the target
## fails if any did). On 2 cores each soak of 100,000 seeds takes minutes.
SOAK_CHECKS ?= 20000
SOAK_SEEDS  ?= 100000
SOAK_SCHEDS ?= uniform pct preempt swarm
SOAK_V11_SCHEDS ?= uniform swarm
SOAK_FUZZ_TIME ?= 2000000x
soak: build
	PROMOTESIM_RAPID_RANDOM=1 $(GO) test -count=1 -timeout 60m -run 'Model|ClusterProperties' ./storage/ ./logindex/ ./scenarios/swarm/ -rapid.checks=$(SOAK_CHECKS)
	PROMOTESIM_SOAK=1 $(GO) test -count=1 -timeout 60m -run 'Soak' $(PKGS)
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(SOAK_FUZZ_TIME) ./scenarios/script/
	@fail=0; \
	for s in $(SOAK_SCHEDS); do \
		echo "soak: bin/promotesim explore -profile v15-fixed -sched $$s -seeds $(SOAK_SEEDS) -keep-going -v"; \
		bin/promotesim explore -profile v15-fixed -sched $$s -seeds $(SOAK_SEEDS) -keep-going -v || fail=1; \
	done; \
	for f in none epoch; do for s in $(SOAK_V11_SCHEDS); do \
		echo "soak: bin/promotesim explore -profile v11-fixed -fence $$f -sched $$s -seeds $(SOAK_SEEDS) -keep-going -v"; \
		bin/promotesim explore -profile v11-fixed -fence $$f -sched $$s -seeds $(SOAK_SEEDS) -keep-going -v || fail=1; \
	done; done; \
	exit $$fail

## orderings: the ordering study (issue 14): regenerate docs/orderings.md and
## its counterexamples (docs/orderings/) from every generated variant of the
## promote order under each scheduler: ORDERINGS_BUDGET seeds per variant for
## each seeded one, ORDERINGS_STATES states for the exhaustive check of the
## small world (deterministic for a budget)
ORDERINGS_BUDGET ?= uniform=5000,pct=1000,preempt=1000
ORDERINGS_STATES ?= 2000
orderings:
	$(GO) run ./cmd/promotesim orderings -budget $(ORDERINGS_BUDGET) -max-states $(ORDERINGS_STATES) -report docs/orderings.md >/dev/null

## shards: a sweep across machines, on this one (deploy/local/shards.sh):
## N explore shards of SHARD_SEEDS seeds as parallel processes (one worker
## each), their -json reports in out/shards, merged by promotesim merge;
## deploy/k8s and deploy/github-actions run the same on many machines
N             ?= 4
SHARD_SEEDS   ?= 2000
SHARD_PROFILE ?= v15-fixed
shards:
	CGO_ENABLED=0 $(GO) build -o bin/promotesim ./cmd/promotesim
	sh deploy/local/shards.sh $(N) out/shards -profile $(SHARD_PROFILE) -seeds $(SHARD_SEEDS) -keep-going -workers 1

fmt:
	gofmt -w $$(git ls-files '*.go')

## figures: measure what the README quotes and write docs/figures.md
## (deterministic counts, which TestFiguresMatchDocs compares with the code,
## and timings with the machine; about 5 minutes on 2 loaded cores)
figures: build
	bin/promotesim figures -o docs/figures.md
