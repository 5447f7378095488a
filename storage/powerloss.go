package storage

// PowerLossLive is PowerLoss on a device in use: the device and every host
// lose power at once (every pending write of every host dropped, seen or
// not, every host unmounted), but an observer's mount (Observe: the
// checkers' read-only view of the device, no host of the cluster) stays,
// so the checkers go on reading what is left. PowerLoss itself unmounts
// everything: it makes a crash image no one else uses (Clone first).
func (d *Device) PowerLossLive() {
	for h := 1; h < len(d.mounts); h++ {
		if m := d.mounts[h]; m != nil && m.observer {
			continue
		}
		d.crash(HostID(h), nil, true)
	}
}
