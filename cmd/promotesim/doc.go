// Command promotesim runs the online-promote simulation.
//
// It is deliberately thin: it parses flags, picks a scenario or demo from
// package scenarios, writes the output and maps the outcome to an exit status:
// 0 when everything ran and held, 1 when a run failed or found a violation,
// 2 for bad usage (unknown subcommand, bad flag or value).
//
//	promotesim demo                 list the teaching demos
//	promotesim demo NAME [flags]    replay one demo as a narrated trace
//	promotesim version              print the model version
//
// Every subcommand takes -h.
package main
