package cluster

import (
	"fmt"
	"strconv"
	"strings"

	"promotesim/shmem"
	"promotesim/storage"
)

// Setting is one option of Options as a script line spells it: the one
// definition of the option set that the cluster command parses
// (Options.Set), prints (Options.Line) and the explorer summarises
// (Options.Summary).
type Setting struct {
	// Key is the script key: cluster KEY=VALUE.
	Key string
	get func(o *Options) string
	set func(o *Options, v string) error
	// optional settings are left out of a line at their zero value.
	optional bool
}

// intSetting is a whole-number setting.
func intSetting(key string, field func(o *Options) *int, optional bool) Setting {
	return Setting{Key: key, optional: optional,
		get: func(o *Options) string { return strconv.Itoa(*field(o)) },
		set: func(o *Options, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("%s=%q: want a whole number", key, v)
			}
			*field(o) = n
			return nil
		}}
}

// Settings are every option, in the order a cluster line prints them.
var Settings = []Setting{
	intSetting("nodes", func(o *Options) *int { return &o.Nodes }, false),
	intSetting("pages", func(o *Options) *int { return &o.Pages }, false),
	intSetting("pool", func(o *Options) *int { return &o.PoolFrames }, false),
	intSetting("queue", func(o *Options) *int { return &o.QueueBuffers }, false),
	intSetting("logindex-mem", func(o *Options) *int { return &o.LogIndexMem }, false),
	intSetting("replica-logindex-mem", func(o *Options) *int { return &o.ReplicaLogIndexMem }, true),
	intSetting("table-size", func(o *Options) *int { return &o.TableSize }, false),
	intSetting("batch", func(o *Options) *int { return &o.BatchSize }, false),
	intSetting("workers", func(o *Options) *int { return &o.ReplayWorkers }, false),
	intSetting("sessions", func(o *Options) *int { return &o.Sessions }, false),
	{Key: "fence",
		get: func(o *Options) string { return o.Fence.String() },
		set: func(o *Options, v string) (err error) { o.Fence, err = storage.ParseFenceMode(v); return err }},
	{Key: "profile",
		get: func(o *Options) string { return ProfileName(o.Profile, o.Fixed) },
		set: func(o *Options, v string) (err error) { o.Profile, o.Fixed, err = ParseProfile(v); return err }},
	// hazard=NAME switches one wrong ordering on (package hazard);
	// Validate names the known ones.
	{Key: "hazard", optional: true,
		get: func(o *Options) string { return o.Hazard },
		set: func(o *Options, v string) error { o.Hazard = v; return nil }},
	// faithful=A,B: the faithful switches a fixed profile takes
	// (shmem.FaithfulNames); Validate checks them.
	{Key: "faithful", optional: true,
		get: func(o *Options) string { return o.Faithful },
		set: func(o *Options, v string) error { o.Faithful = v; return nil }},
	intSetting("standbys", func(o *Options) *int { return &o.Standbys }, true),
	// wal-write-behind=true: the walwriter's write and fsync are separate
	// steps (shmem.Config.WALWriteBehind).
	{Key: "wal-write-behind", optional: true,
		get: func(o *Options) string {
			if o.WALWriteBehind {
				return "true"
			}
			return ""
		},
		set: func(o *Options, v string) error {
			switch v {
			case "true":
				o.WALWriteBehind = true
			case "false":
				o.WALWriteBehind = false
			default:
				return fmt.Errorf("wal-write-behind=%q: want true or false", v)
			}
			return nil
		}},
	// checkpoint-distance=N: the lazy checkpoint's distance in bytes of
	// WAL (left out at 0, the default).
	intSetting("checkpoint-distance", func(o *Options) *int { return &o.CheckpointDistance }, true),
	// prewarm=on is polar_enable_replica_prewarm (left out when off).
	{Key: "prewarm", optional: true,
		get: func(o *Options) string {
			if o.Prewarm {
				return "on"
			}
			return ""
		},
		set: func(o *Options, v string) error {
			switch v {
			case "on":
				o.Prewarm = true
			case "off":
				o.Prewarm = false
			default:
				return fmt.Errorf("prewarm=%q: want on or off", v)
			}
			return nil
		}},
}

// The profiles: a PolarDB version's promote order (shmem.Profile), either
// as PolarDB's code does it (v15, v11: shmem.FaithfulV15) or with the
// model's fixes on (v15-fixed, v11-fixed: the shmem.Fidelity zero value).
const fixedSuffix = "-fixed"

// ProfileNames lists the profile names -profile and profile= accept.
func ProfileNames() []string { return []string{"v15", "v15-fixed", "v11", "v11-fixed"} }

// ProfileName is the name of version p, faithful or fixed.
func ProfileName(p shmem.Profile, fixed bool) string {
	if fixed {
		return p.String() + fixedSuffix
	}
	return p.String()
}

// ParseProfile reads a profile name: the version and whether it is fixed.
func ParseProfile(s string) (shmem.Profile, bool, error) {
	fixed := strings.HasSuffix(s, fixedSuffix)
	p, err := shmem.ParseProfile(strings.TrimSuffix(s, fixedSuffix))
	if err != nil {
		return 0, false, fmt.Errorf("unknown profile %q (want %s)", s, strings.Join(ProfileNames(), ", "))
	}
	return p, fixed, nil
}

// SettingKeys lists the settings' script keys in line order.
func SettingKeys() []string {
	keys := make([]string, len(Settings))
	for i, s := range Settings {
		keys[i] = s.Key
	}
	return keys
}

func lookupSetting(key string) (Setting, bool) {
	for _, s := range Settings {
		if s.Key == key {
			return s, true
		}
	}
	return Setting{}, false
}

// Set sets the option a script key names from its value text.
func (o *Options) Set(key, value string) error {
	s, ok := lookupSetting(key)
	if !ok {
		return fmt.Errorf("no cluster setting %q (known: %s)", key, strings.Join(SettingKeys(), ", "))
	}
	return s.set(o, value)
}

// Get returns the value text of the option a script key names.
func (o Options) Get(key string) string {
	s, ok := lookupSetting(key)
	if !ok {
		return ""
	}
	return s.get(&o)
}

// Line renders the options as the key=value part of a cluster line, in
// Settings order, optional settings left out at their zero value.
func (o Options) Line() string {
	var parts []string
	for _, s := range Settings {
		v := s.get(&o)
		if s.optional && (v == "" || v == "0") {
			continue
		}
		parts = append(parts, s.Key+"="+v)
	}
	return strings.Join(parts, " ")
}

// Summary renders the options as the explorer reports a world: the base
// first (profile, fence, hazard or -), then the rest in Settings order,
// the replicas' LogIndex memory folded into logindex-mem=PRIMARY/REPLICA.
func (o Options) Summary() string {
	base := []string{"profile", "fence", "hazard"}
	if o.Faithful != "" {
		base = append(base, "faithful")
	}
	var parts []string
	for _, k := range base {
		v := o.Get(k)
		if v == "" {
			v = "-"
		}
		parts = append(parts, k+"="+v)
	}
	for _, s := range Settings {
		v := s.get(&o)
		switch {
		case s.Key == "profile" || s.Key == "fence" || s.Key == "hazard" || s.Key == "faithful" || s.Key == "replica-logindex-mem":
			continue
		case s.Key == "logindex-mem":
			v += "/" + o.Get("replica-logindex-mem")
		case s.optional && (v == "" || v == "0"):
			continue
		}
		parts = append(parts, s.Key+"="+v)
	}
	return strings.Join(parts, " ")
}
