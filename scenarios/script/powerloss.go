package script

// PowerLoss is every host and device losing power at once: power-loss
// (cluster.PowerLoss). Like crash it does not restart anything; start,
// rebuild or liveness bring the cluster back.
type PowerLoss struct{}

func parsePowerLoss(_ string, a args) (Command, error) {
	if err := a.only("power-loss"); err != nil {
		return nil, err
	}
	return PowerLoss{}, nil
}

func (PowerLoss) String() string { return "power-loss" }

func (PowerLoss) run(r *Runner) (string, error) {
	r.C.PowerLoss()
	return "every host and device lost power", nil
}
