package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"os/signal"
	"time"
)

// Flag checks shared by the commands (issue 15: a zero or nonsense value
// is bad usage, exit status 2, never a silent default). They are small
// helpers so every command's parse function calls them in one line.

// maxWorkers bounds -workers: each worker holds a whole world (device,
// pools, processes) at once, so a typo like -workers 100000 would exhaust
// memory instead of running faster on a machine of a few cores.
const maxWorkers = 1024

// setFlags names the flags given on the command line (looked up only).
func setFlags(fs *flag.FlagSet) map[string]bool {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}

// positiveIfSet rejects an explicit 0 for a count flag whose absence (not
// its zero) selects another mode: `-seeds 0` used to run the 20 s time
// budget silently.
func positiveIfSet(set map[string]bool, name string, v uint64, instead string) error {
	if set[name] && v == 0 {
		return usageErr("-%s 0: want at least 1 (%s)", name, instead)
	}
	return nil
}

// durationIfSet rejects an explicit zero or negative duration for a flag
// whose 0 has no meaning of its own.
func durationIfSet(set map[string]bool, name string, d time.Duration, instead string) error {
	if set[name] && d <= 0 {
		return usageErr("-%s %v: want a positive duration such as 30s or 5m (%s)", name, d, instead)
	}
	return nil
}

// seedRange rejects a range FirstSeed..FirstSeed+N-1 that wraps past the
// largest uint64 seed (the explorer would refuse it later as a run error,
// exit 1, though it is the user's input).
func seedRange(first, n uint64) error {
	if n > 0 && first+n-1 < first {
		return usageErr("-seed %d with %d seeds runs past the largest seed %d: lower -seed or the count", first, n, ^uint64(0))
	}
	return nil
}

// checkWorkers accepts 0 (every core) or 1..maxWorkers.
func checkWorkers(n int) error {
	if n < 0 || n > maxWorkers {
		return usageErr("-workers %d: want 1..%d (or 0 for every core)", n, maxWorkers)
	}
	return nil
}

// checkDir rejects an empty directory flag (an explicit -out "" would
// write into the working directory unasked).
func checkDir(name, dir string) error {
	if dir == "" {
		return usageErr("-%s \"\": want a directory", name)
	}
	return nil
}

// exitInterrupted is the shell's status for a run ended by SIGINT
// (128 + 2): a sweep cut short must not look like a clean pass to CI.
const exitInterrupted = 130

// errInterrupted marks a run that SIGINT cut short; its partial summary,
// saying "interrupted", is printed already.
var errInterrupted = errors.New("interrupted")

// notifyInterrupt is the seam the tests replace to interrupt a run
// without a signal; by default it is SIGINT (Ctrl-C).
var notifyInterrupt = func() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}

// interruptible returns a context cancelled by the first SIGINT. After
// it, the signal's default action is restored, so a second Ctrl-C kills
// a run that is still printing or writing. stop releases the handler.
func interruptible() (ctx context.Context, stop func()) {
	ctx, cancel := notifyInterrupt()
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			cancel() // restores SIGINT's default action
		case <-done:
		}
	}()
	return ctx, func() { close(done); cancel() }
}

// interrupted reports whether ctx was cancelled by the interrupt (not by
// the run ending).
func interrupted(ctx context.Context) bool { return ctx.Err() != nil }
