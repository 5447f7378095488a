package storage

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// TestDeviceScripts runs the scripts in testdata/device. Each command is one
// device operation; see deviceEnv.handle for the list. Rewrite expectations
// with: go test ./storage -run TestDeviceScripts -rewrite
func TestDeviceScripts(t *testing.T) {
	datadriven.Walk(t, "testdata/device", func(t *testing.T, path string) {
		env := &deviceEnv{}
		datadriven.RunTest(t, path, env.handle)
	})
}

type deviceEnv struct {
	d *Device
}

func (e *deviceEnv) handle(t *testing.T, td *datadriven.TestData) string {
	args := scriptArgs{t: t, td: td}
	if td.Cmd != "device" && e.d == nil {
		td.Fatalf(t, "no device: start the script with `device`")
	}
	var err error
	var out strings.Builder
	switch td.Cmd {
	case "device":
		fence, perr := ParseFenceMode(args.str("fence", "none"))
		if perr != nil {
			return "error: " + perr.Error()
		}
		var d *Device
		d, err = NewDevice(DeviceConfig{Blocks: args.int("blocks", 8), Fence: fence, Local: td.HasArg("local")})
		if err == nil {
			e.d = d
			fmt.Fprintf(&out, "device blocks=%d fence=%s local=%t\n", d.Capacity(), fence, d.cfg.Local)
		}
	case "mount":
		mode := MountReadOnly
		if args.str("mode", "ro") == "rw" {
			mode = MountReadWrite
		}
		_, err = e.d.Mount(args.host(), mode)
		if err == nil {
			e.mounts(&out)
		}
	case "unmount":
		e.d.Unmount(args.host())
		e.mounts(&out)
	case "remount":
		err = e.mount(args).RemountRW()
		if err == nil {
			e.mounts(&out)
		}
	case "create":
		err = e.mount(args).Create(args.str("path", ""))
	case "write":
		data := []byte(args.str("data", ""))
		if n := args.int("len", len(data)); n != len(data) {
			data = []byte(strings.Repeat(string(data), n/max(len(data), 1)+1)[:n])
		}
		err = e.mount(args).WriteAt(args.str("path", ""), data, int64(args.int("off", 0)))
	case "read":
		buf := make([]byte, args.int("len", BlockSize))
		var n int
		n, err = e.mount(args).ReadAt(args.str("path", ""), buf, int64(args.int("off", 0)))
		fmt.Fprintf(&out, "%d bytes: %s\n", n, render(buf[:n]))
	case "truncate":
		err = e.mount(args).Truncate(args.str("path", ""), int64(args.int("size", 0)))
	case "remove":
		err = e.mount(args).Remove(args.str("path", ""))
	case "ls":
		for _, p := range e.mount(args).List(args.str("dir", "")) {
			fmt.Fprintln(&out, p)
		}
	case "sync":
		m := e.mount(args)
		if td.HasArg("path") {
			err = m.Sync(args.str("path", ""))
		} else {
			err = m.SyncAll()
		}
	case "pending":
		for _, p := range e.d.Pending(args.host()) {
			fmt.Fprintln(&out, p)
		}
	case "crash", "image":
		// crash changes the device; image shows the crash image of a clone
		// and leaves the device as it was.
		mode := parseKeep(t, td, args.str("keep", "drop"))
		d := e.d
		if td.Cmd == "image" {
			d = d.Clone()
		}
		d.Crash(args.host(), func(p PendingWrite) KeepMode {
			fmt.Fprintf(&out, "%s: %s\n", mode, p)
			return mode
		})
		if td.Cmd == "image" {
			dumpFiles(&out, d)
		}
	case "grow":
		err = e.d.Grow(args.int("blocks", 0))
		if err == nil {
			fmt.Fprintf(&out, "capacity=%d used=%d\n", e.d.Capacity(), e.d.Used())
		}
	case "fault":
		var op Op
		switch s := args.str("op", ""); s {
		case "read":
			op = OpRead
		case "write":
			op = OpWrite
		case "sync":
			op = OpSync
		default:
			td.Fatalf(t, "unknown op %q", s)
		}
		e.d.InjectError(FaultSpec{Op: op, Host: HostID(args.int("host", 0)),
			PathPrefix: args.str("prefix", ""), Count: args.int("count", 1)})
		for _, f := range e.d.Faults() {
			fmt.Fprintln(&out, f)
		}
	case "latency":
		h := args.host()
		if td.HasArg("ticks") {
			e.d.SetLatency(h, int64(args.int("ticks", 0)))
		}
		fmt.Fprintf(&out, "%s latency=%d\n", h, e.d.Latency(h))
	case "writes":
		for _, r := range e.d.WritesSince(uint64(args.int("since", 0))) {
			fmt.Fprintln(&out, r)
		}
	case "stale":
		for _, r := range e.d.StaleWrites() {
			fmt.Fprintln(&out, r)
		}
		fmt.Fprintf(&out, "%d stale writes\n", e.d.StaleCount())
	case "last":
		if r, ok := e.d.LastWrite(BlockNo(args.int("block", 0))); ok {
			fmt.Fprintln(&out, r)
		} else {
			fmt.Fprintln(&out, "never written")
		}
	case "dump":
		dumpDevice(&out, e.d)
	default:
		td.Fatalf(t, "unknown command %q", td.Cmd)
	}
	if err != nil {
		fmt.Fprintf(&out, "error: %v\n", err)
	}
	if out.Len() == 0 {
		return "ok\n"
	}
	return out.String()
}

// mount returns host's mount, or a dead one so the script shows
// ErrNotMounted rather than the test crashing.
func (e *deviceEnv) mount(a scriptArgs) *Mount {
	h := a.host()
	if m, ok := e.d.Mounted(h); ok {
		return m
	}
	return &Mount{dev: e.d, host: h}
}

func (e *deviceEnv) mounts(out *strings.Builder) {
	writeMounts(out, e.d)
}

func writeMounts(out *strings.Builder, d *Device) {
	n := 0
	for h := range d.mounts {
		m := d.mounts[h]
		if m == nil {
			continue
		}
		n++
		fmt.Fprintf(out, "%s %s epoch=%d", m.host, m.mode, m.epoch)
		if m.Writer() {
			out.WriteString(" writer")
		} else if m.mode == MountReadWrite {
			out.WriteString(" displaced")
		}
		out.WriteString("\n")
	}
	if n == 0 {
		out.WriteString("no mounts\n")
	}
}

func dumpDevice(out *strings.Builder, d *Device) {
	w, ep, ok := d.Writer()
	writer := "none"
	if ok {
		writer = w.String()
	}
	fmt.Fprintf(out, "capacity=%d used=%d fence=%s epoch=%d writer=%s", d.Capacity(), d.Used(), d.cfg.Fence, ep, writer)
	if d.cfg.Fence == FenceDetect && d.rwid.host != 0 {
		fmt.Fprintf(out, " rwid=%s/%d", d.rwid.host, d.rwid.gen)
	}
	out.WriteString("\n")
	writeMounts(out, d)
	dumpFiles(out, d)
}

// dumpFiles prints every file with its blocks, visible and durable content.
func dumpFiles(out *strings.Builder, d *Device) {
	for _, name := range d.names {
		f := d.files[name]
		fmt.Fprintf(out, "%s size=%d blocks=%v\n", f.name, f.size, f.blocks)
		vis := make([]byte, 0, f.size)
		dur := make([]byte, 0, f.size)
		for i, b := range f.blocks {
			n := min(int64(BlockSize), f.size-int64(i)*BlockSize)
			vis = append(vis, d.blocks[b].data[:n]...)
			dur = append(dur, d.blocks[b].durable[:n]...)
		}
		if f.size > 0 {
			fmt.Fprintf(out, "  visible: %s\n", render(vis))
		}
		if string(vis) != string(dur) {
			fmt.Fprintf(out, "  durable: %s\n", render(dur))
		}
	}
}

// render prints bytes readably: zero bytes as '.', others as text or \xNN.
func render(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		switch {
		case c == 0:
			s.WriteByte('.')
		case c >= 0x20 && c < 0x7f:
			s.WriteByte(c)
		default:
			fmt.Fprintf(&s, `\x%02x`, c)
		}
	}
	return s.String()
}

func parseKeep(t *testing.T, td *datadriven.TestData, s string) KeepMode {
	for _, k := range [...]KeepMode{Drop, Keep, Tear} {
		if k.String() == s {
			return k
		}
	}
	td.Fatalf(t, "unknown keep mode %q", s)
	return 0
}

type scriptArgs struct {
	t  *testing.T
	td *datadriven.TestData
}

func (a scriptArgs) str(key, def string) string {
	arg, ok := a.td.Arg(key)
	if !ok {
		return def
	}
	return arg.SingleVal(a.t)
}

func (a scriptArgs) int(key string, def int) int {
	arg, ok := a.td.Arg(key)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(arg.SingleVal(a.t))
	if err != nil {
		a.td.Fatalf(a.t, "%s: %v", key, err)
	}
	return n
}

func (a scriptArgs) host() HostID {
	if !a.td.HasArg("host") {
		a.td.Fatalf(a.t, "%s needs host=", a.td.Cmd)
	}
	return HostID(a.int("host", 0))
}
