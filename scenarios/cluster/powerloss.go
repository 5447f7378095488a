package cluster

import (
	"promotesim/sim"
	"promotesim/storage"
)

// PowerLoss is every host and every device losing power at once (the
// crash-point sweep's third kind, ALICE's "whole system" crash): each
// running node is killed as Crash kills it, then the device drops every
// write still pending, seen by another host or not (Crash keeps a seen
// write: PFS does direct I/O, so a host's crash cannot take back what
// another host read; only the device's own power loss can), and a
// standby's own disk does too (storage.Device.PowerLossLive: the
// checkers' observer mount stays). What is left is the durable image, what
// crash recovery finds on restart.
func (c *Cluster) PowerLoss() {
	for i, n := range c.nodes {
		if n == nil {
			continue
		}
		if c.Op.Alive(n) {
			// A node that is down has no process to kill; what it left
			// pending on a device, the device's power loss drops.
			c.Op.Crash(n, nil)
		}
		if c.IsStandby(storage.HostID(i + 1)) {
			if d := c.StandbyDevice(storage.HostID(i + 1)); d != nil {
				d.PowerLossLive()
			}
		}
	}
	c.Dev.PowerLossLive()
	c.S.Emit("operator", sim.LevelStory, "power-loss", sim.Int("hosts", int64(len(c.nodes))))
}
