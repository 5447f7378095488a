package main

// exploreReport is the body of explore's -json report (exploreJSON), the
// fields merge also reads and writes back (shardReport): one declaration,
// so a field added here reaches both. explore adds "interrupted" and
// "determinism", which merge combines by its rules for fields it keeps
// raw (mergeExtra, mergeDeterminism).
type exploreReport struct {
	Model        string            `json:"model_version"`
	Base         string            `json:"base"`
	FirstSeed    uint64            `json:"first_seed"`
	LastSeed     uint64            `json:"last_seed"`
	Shard        string            `json:"shard"`
	Worlds       uint64            `json:"worlds"`
	Steps        uint64            `json:"steps"`
	ElapsedSec   float64           `json:"elapsed_s"`
	Workers      int               `json:"workers"`
	StepsPerSec  float64           `json:"steps_per_s"`
	StepsPerCore float64           `json:"steps_per_s_per_core"`
	Violations   uint64            `json:"violations"`
	Background   uint64            `json:"background"`
	ByChecker    map[string]uint64 `json:"violations_by_checker,omitempty"`
	MarksReached []string          `json:"marks_reached"`
	MarksKnown   int               `json:"marks_known"`
	// MarksUnreachable: known marks this run cannot reach, and why (the
	// shards of one base agree on it).
	MarksUnreachable map[string]string   `json:"marks_unreachable,omitempty"`
	Exercised        map[string]uint64   `json:"claims_exercised"`
	NeverExercised   []string            `json:"claims_never_exercised"`
	PeakRSS          uint64              `json:"peak_rss_bytes,omitempty"`
	Failures         []failureJSON       `json:"failures,omitempty"`
	Counterexample   *jsonCounterexample `json:"counterexample,omitempty"`
	Run              runJSON             `json:"run"`
	Exhausted        bool                `json:"exhausted"`
}

// failureJSON is one entry of a report's failures.
type failureJSON struct {
	Seed    uint64 `json:"seed"`
	Options string `json:"options"`
	Checker string `json:"checker"`
	Step    uint64 `json:"step,omitempty"`
	Error   string `json:"error"`
	Replay  string `json:"replay"`
	// Finding, on the lowest failing world only, is explore's finding
	// line: the docs/findings.md finding it is, or that it is none.
	Finding string `json:"finding,omitempty"`
}
