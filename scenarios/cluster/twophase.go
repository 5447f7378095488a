package cluster

import (
	"promotesim/postmaster"
	"promotesim/storage"
)

// FinishPrepared sends COMMIT PREPARED (commit) or ROLLBACK PREPARED of gid
// to a session of host h.
func (c *Cluster) FinishPrepared(h storage.HostID, gid string, commit bool) error {
	id, err := c.session(h)
	if err != nil {
		return err
	}
	c.S.Post(id, postmaster.FinishPrepared{GID: gid, Commit: commit})
	return nil
}
