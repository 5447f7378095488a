package demo

// switchoverStages follow the seed's switchover walkthrough (docs/model.md
// §9) step by step: a primary, a LogIndex replica and a standby with slots
// replica1 and standby1; a fast stop of the primary; the online promote;
// pg_replication_slots showing both slots; the old primary rebuilt as a
// replica through replica1 (local directory from shared storage, config,
// replica.signal, start) and streaming in the new primary's
// pg_stat_replication; the switchover again and the turn back with
// replica.signal + start. The walkthrough's warning, the refusal a replica
// without LogIndex meets (naming polar_logindex_mem_size,
// polar_xlog_queue_buffers and polar_xlog_page_buffers), is the demo
// logindex-off: a second cluster here would replace the world the viewer
// shows (scenarios/view captures one world per demo).
var switchoverStages = []stage{
	{"A primary n1 and a LogIndex replica n2 share one device; standby n3 has its own disk (slots replica1, standby1); clients write on n1", []string{
		"cluster nodes=2 pages=4 standbys=1",
		"writes node=1 count=6",
		"run-until caught-up node=2",
		"run-until caught-up node=3",
		"read node=2 page=1",
		"slots node=1",
		"status",
	}},
	{"Step 1: stop the primary (fast: flush everything, shutdown checkpoint)", []string{
		"stop node=1 mode=fast",
		"status",
	}},
	{"Step 2: promote the replica online (pg_ctl promote): postmaster, startup and BGW in PolarDB 15's order", []string{
		"promote node=2",
		"run-until read-write node=2",
		"status",
		"write node=2 page=1 slot=3",
		"run-until bgw-not-start node=2",
	}},
	{"pg_replication_slots on the new primary: replica1 and standby1, reloaded from shared storage; the standby follows n2 through standby1", []string{
		"slots node=2",
		"run-until caught-up node=3",
		"check acked-visible node=3",
		"stat-replication node=2",
	}},
	{"Step 3: rebuild the old primary as a replica through replica1 (local dir from shared storage, config, replica.signal, start)", []string{
		"rebuild node=1 slot=replica1",
		"run-until hot-standby node=1",
		"writes node=2 count=3",
		"run-until caught-up node=1",
		"run-until consistent-caught-up node=2",
		"check acked-visible node=1",
		"slots node=2",
		"stat-replication node=2",
		"status",
	}},
	{"Step 4: switch over again, this time stopping n2 immediately (dirty pages left behind): the BGW replays them in ONLINE_PROMOTE", []string{
		"stop node=2 mode=immediate",
		"promote node=1",
		"run-until read-write node=1",
		"run-until bgw-not-start node=1",
		"slots node=1",
	}},
	{"Turn n2 back into a replica: replica.signal + start, streaming through replica1 again", []string{
		"start node=2 role=replica",
		"run-until hot-standby node=2",
		"writes node=1 count=2",
		"run-until caught-up node=2",
		"run-until caught-up node=3",
		"check acked-visible node=1",
		"slots node=1",
		"stat-replication node=1",
		"status",
	}},
}
