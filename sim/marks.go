package sim

import "sort"

// Marks counts how often named rare paths were reached (after TigerBeetle's
// marks): a test that claims to exercise a path asserts its mark was hit.
type Marks struct {
	counts map[string]uint64 // looked up; listed only through Names (sorted)
}

// Hit counts one visit of the named path.
func (m *Marks) Hit(name string) {
	if m.counts == nil {
		m.counts = make(map[string]uint64)
	}
	m.counts[name]++
}

// Count returns how often name was hit.
func (m *Marks) Count(name string) uint64 { return m.counts[name] }

// Names returns every hit mark, sorted.
func (m *Marks) Names() []string {
	out := make([]string, 0, len(m.counts))
	for k := range m.counts { // determinism:ok sorted before anyone sees them
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Merge adds other's counts into m (explorers merge marks of many worlds).
func (m *Marks) Merge(other *Marks) {
	for _, k := range other.Names() {
		if m.counts == nil {
			m.counts = make(map[string]uint64)
		}
		m.counts[k] += other.counts[k]
	}
}
