package explore

import (
	"context"
	"testing"
)

// BenchmarkExhaustiveP0 is the exhaustive check's bound-0 search of the
// default world, cut at 20,000 distinct states (a third of the space, so
// make bench's five counts stay short; the complete search, the figure
// README sets beside Spin's, is check -exhaustive -preemptions 0 -budget
// 0). It reports distinct states a second; with -cpuprofile it is where
// the search spends its time.
func BenchmarkExhaustiveP0(b *testing.B) {
	for b.Loop() {
		res, err := CheckExhaustive(context.Background(), ExhaustiveConfig{BoundPreemptions: true, MaxStates: 20000})
		if err != nil || res.Search.States < 20000 || res.Shortest != nil {
			b.Fatalf("%v %v", err, res.Search)
		}
		b.ReportMetric(res.StatesPerSec(), "states/s")
		b.ReportMetric(float64(res.Search.States), "states")
	}
}
