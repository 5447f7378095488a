// Command promotesim runs the online-promote simulation.
//
// It is deliberately thin: it parses flags, calls the scenarios packages
// (for the viewer scenarios/view, and scenarios/view/serve's handler, which
// view.go listens for), writes the output and maps the outcome to an exit
// status: 0 when everything ran and held, 1 when a run failed or found a
// violation, 2 for bad usage (unknown subcommand, bad flag or value).
//
//	promotesim explore [flags]      seeded swarm worlds on every core; a failing
//	                                seed is shrunk and written as a script
//	promotesim explore -hazard all  the hazard table: caught by which checker,
//	                                how soon, how short the counterexample
//	promotesim merge REPORT...      the report one machine would have printed,
//	                                from the -json reports of explore -shard i/n
//	promotesim replay -seed S       one world with its full trace
//	promotesim replay -script FILE  a counterexample file (or any script, as run)
//	promotesim run FILE...          any datadriven script (story, hazard canary,
//	                                finding, counterexample) as its test runs it,
//	                                with a diff where the output differs (exit 1);
//	                                a bad file is named with its line (exit 2)
//	promotesim hazards              the hazard catalogue
//	promotesim check -exhaustive    a stateful search of a small world's promote window
//	promotesim demo                 list the teaching demos
//	promotesim demo NAME [flags]    replay one demo as a narrated trace
//	promotesim view [DEMO|-seed S|-script FILE]
//	                                the step-through viewer on 127.0.0.1 (prints
//	                                its URL); -o FILE.html one self-contained
//	                                page, -format mermaid|script diagrams or a
//	                                branch (-path) as a replayable script
//	promotesim version              print the model version
//
// Every subcommand takes -h.
package main
