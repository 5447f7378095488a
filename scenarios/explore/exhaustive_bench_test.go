package explore

import (
	"context"
	"testing"
)

// BenchmarkExhaustiveP0 is the exhaustive check's whole bound-0 search of
// the default world (check -exhaustive -preemptions 0 -budget 0): the
// figure README compares with Spin. It reports distinct states a second.
func BenchmarkExhaustiveP0(b *testing.B) {
	for b.Loop() {
		res, err := CheckExhaustive(context.Background(), ExhaustiveConfig{BoundPreemptions: true})
		if err != nil || !res.Search.Complete || res.Shortest != nil {
			b.Fatalf("%v %v", err, res.Search)
		}
		b.ReportMetric(res.StatesPerSec(), "states/s")
		b.ReportMetric(float64(res.Search.States), "states")
	}
}
