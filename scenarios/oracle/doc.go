// Package oracle knows what must be true without asking any process: it
// reads the WAL on shared storage through a read-only mount of its own and
// can say, for any LSN, what every workload page and every transaction's
// status must be. It also runs PostgreSQL crash recovery offline on a crash
// image of the device, which is what the CrashRecovers claim compares.
//
// It parses the WAL with logindex's record format and replays as
// src/backend/access/transam/xlog.c's StartupXLOG does after a crash (redo
// from the control file's redo pointer to the end of valid WAL, commit and
// abort records into the clog of src/backend/access/transam/clog.c).
package oracle
