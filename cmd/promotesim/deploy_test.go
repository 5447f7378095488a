package main

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// The deploy examples (the container image, the Kubernetes Indexed Job,
// the CI matrix, make shards) hold promotesim command lines that nothing
// else runs. These tests parse them and check every command line against
// the binary's real flag sets, so a renamed or removed flag breaks the
// build here instead of a sweep on someone's cluster.

const repoRoot = "../.."

func readRepoFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, path))
	require.NoError(t, err)
	return string(data)
}

// yamlDocs decodes every document of a YAML file.
func yamlDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(readRepoFile(t, path)))
	var docs []map[string]any
	for {
		var d map[string]any
		if err := dec.Decode(&d); err == io.EOF {
			break
		} else {
			require.NoError(t, err, path)
		}
		docs = append(docs, d)
	}
	require.NotEmpty(t, docs, path)
	return docs
}

// yamlStrings collects every string value of a decoded YAML tree.
func yamlStrings(v any, out *[]string) {
	switch x := v.(type) {
	case string:
		*out = append(*out, x)
	case map[string]any:
		for _, e := range x { // order does not matter: the lines are checked one by one
			yamlStrings(e, out)
		}
	case []any:
		for _, e := range x {
			yamlStrings(e, out)
		}
	}
}

// promotesimLine finds `promotesim explore|merge ...` (or `"$PROMOTESIM"
// explore ...`) in a shell line; the rest ends at a redirection, pipe or
// command separator.
var promotesimLine = regexp.MustCompile(`(?i)promotesim"?\s+(explore|merge)\b([^>|;&]*)`)

// shellVar is a variable reference the examples use: $X, ${X}, $(X) (make)
// or ${{ matrix.x }} (Actions).
var shellVar = regexp.MustCompile(`\$\{\{\s*[\w.]+\s*\}\}|\$\{\w+\}|\$\(\w+\)|\$\w+|"\$@"`)

// commandLines returns every promotesim command line in text, with its
// variables replaced from vars (a variable the test does not know fails).
func commandLines(t *testing.T, where, text string, vars map[string]string) [][]string {
	t.Helper()
	var out [][]string
	for _, line := range strings.Split(text, "\n") {
		m := promotesimLine.FindStringSubmatch(line)
		if m == nil || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		rest := shellVar.ReplaceAllStringFunc(m[2], func(v string) string {
			name := strings.Trim(v, "${}() \"")
			val, ok := vars[name]
			require.True(t, ok, "%s: variable %s in %q: the test does not know it", where, v, line)
			return val
		})
		words := strings.Fields(strings.ReplaceAll(strings.ReplaceAll(rest, `"`, ""), "'", ""))
		out = append(out, append([]string{m[1]}, words...))
	}
	return out
}

// checkCommands parses each command line with the real flag sets and
// requires at least one explore with -shard and -json and one merge.
func checkCommands(t *testing.T, where string, lines [][]string, shards int) {
	t.Helper()
	explores, merges := 0, 0
	for _, l := range lines {
		switch l[0] {
		case "explore":
			ef, err := parseExploreFlags(l[1:], io.Discard)
			require.NoError(t, err, "%s: explore %v", where, l[1:])
			require.True(t, ef.jsonOut, "%s: a shard must write a -json report: %v", where, l)
			require.Equal(t, uint64(shards), ef.cfg.Shards, "%s: -shard's n must be the number of shards: %v", where, l)
			require.NotZero(t, ef.cfg.Seeds, "%s: a shard must run a seed range (-seeds) for an exact merge: %v", where, l)
			explores++
		case "merge":
			fs, _, _ := mergeFlags(io.Discard)
			require.NoError(t, fs.Parse(l[1:]), "%s: merge %v", where, l[1:])
			require.NotZero(t, fs.NArg(), "%s: merge without reports: %v", where, l)
			merges++
		}
	}
	require.NotZero(t, explores, "%s: no explore command line found", where)
	require.NotZero(t, merges, "%s: no merge command line found", where)
}

// TestDeployKubernetes guards deploy/k8s: the Job is Indexed with as many
// completions as SHARDS, each pod's command line is a valid explore shard
// of that many, and the merge Job's command lines are valid merges.
func TestDeployKubernetes(t *testing.T) {
	var jobText []string
	shards := 0
	for _, d := range yamlDocs(t, "deploy/k8s/explore-job.yaml") {
		if d["kind"] != "Job" {
			continue
		}
		spec := d["spec"].(map[string]any)
		require.Equal(t, "Indexed", spec["completionMode"])
		require.Equal(t, spec["completions"], spec["parallelism"])
		shards = spec["completions"].(int)
		c := spec["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
		env := c["env"].([]any)[0].(map[string]any)
		require.Equal(t, "SHARDS", env["name"])
		require.Equal(t, strconv.Itoa(shards), env["value"], "SHARDS must equal completions")
		yamlStrings(d, &jobText)
	}
	require.NotZero(t, shards, "no Job in explore-job.yaml")
	for _, d := range yamlDocs(t, "deploy/k8s/merge-job.yaml") {
		yamlStrings(d, &jobText)
	}
	vars := map[string]string{"JOB_COMPLETION_INDEX": "3", "SHARDS": strconv.Itoa(shards), "rc": "0"}
	checkCommands(t, "deploy/k8s", commandLines(t, "deploy/k8s", strings.Join(jobText, "\n"), vars), shards)
}

// TestDeployGitHubActions guards the CI matrix: its shard list is
// 0..SHARDS-1 and every promotesim command line parses.
func TestDeployGitHubActions(t *testing.T) {
	docs := yamlDocs(t, "deploy/github-actions/explore-matrix.yml")
	wf := docs[0]
	shards := wf["env"].(map[string]any)["SHARDS"].(int)
	jobs := wf["jobs"].(map[string]any)
	list := jobs["shard"].(map[string]any)["strategy"].(map[string]any)["matrix"].(map[string]any)["shard"].([]any)
	require.Len(t, list, shards, "the matrix must list SHARDS shards")
	for i, s := range list {
		require.Equal(t, i, s, "shard %d of the matrix", i)
	}
	require.Equal(t, "shard", jobs["merge"].(map[string]any)["needs"], "merge must wait for every shard")
	var text []string
	yamlStrings(wf, &text)
	vars := map[string]string{"matrix.shard": "2", "SHARDS": strconv.Itoa(shards), "rc": "0"}
	checkCommands(t, "deploy/github-actions", commandLines(t, "deploy/github-actions", strings.Join(text, "\n"), vars), shards)
}

// TestDeployLocal guards make shards: the flags the Makefile passes to
// deploy/local/shards.sh are valid explore flags once the script adds its
// own, and the script's merge lines parse.
func TestDeployLocal(t *testing.T) {
	mk := readRepoFile(t, "Makefile")
	m := regexp.MustCompile(`sh deploy/local/shards.sh \$\(N\) (\S+) (.*)`).FindStringSubmatch(mk)
	require.NotNil(t, m, "make shards does not run deploy/local/shards.sh")
	defaults := map[string]string{}
	for _, d := range regexp.MustCompile(`(?m)^(\w+)\s*\?=\s*(\S+)`).FindAllStringSubmatch(mk, -1) {
		defaults[d[1]] = d[2]
	}
	makeFlags := regexp.MustCompile(`\$\((\w+)\)`).ReplaceAllStringFunc(m[2], func(v string) string {
		val, ok := defaults[strings.Trim(v, "$()")]
		require.True(t, ok, "Makefile variable %s has no default", v)
		return val
	})
	n, err := strconv.Atoi(defaults["N"])
	require.NoError(t, err, "N's default")
	vars := map[string]string{"@": makeFlags, "i": "1", "N": defaults["N"], "OUT": m[1], "PROMOTESIM": "bin/promotesim"}
	checkCommands(t, "deploy/local/shards.sh", commandLines(t, "deploy/local/shards.sh", readRepoFile(t, "deploy/local/shards.sh"), vars), n)
}

// TestDockerfile guards the image's contract without Docker: a static
// (cgo off) build of the real main package, and the binary as entrypoint.
func TestDockerfile(t *testing.T) {
	df := readRepoFile(t, "Dockerfile")
	build := regexp.MustCompile(`(?m)^RUN CGO_ENABLED=0 go build .* -o (\S+) (\./\S+)$`).FindStringSubmatch(df)
	require.NotNil(t, build, "Dockerfile: no CGO_ENABLED=0 go build")
	_, err := os.Stat(filepath.Join(repoRoot, build[2], "main.go"))
	require.NoError(t, err, "Dockerfile builds %s", build[2])
	require.Regexp(t, `COPY --from=build `+regexp.QuoteMeta(build[1])+` /usr/local/bin/promotesim`, df)
	require.Contains(t, df, `ENTRYPOINT ["/usr/local/bin/promotesim"]`)
	require.Len(t, regexp.MustCompile(`(?m)^FROM `).FindAllString(df, -1), 2, "two stages: build, then the binary alone")
}
