package structure

import "strconv"

// PathBuilder builds the FHIRPath-style location of an issue (Patient.name[0].given) as a walk
// descends, without allocating at each step: Push and PushIndex return the length that Pop
// restores. Both walkers (this package's and the profile walker in checks/validate) use it.
type PathBuilder []byte

// Push appends ".name" ("name" at the root) and returns the length to restore.
func (p *PathBuilder) Push(name string) int {
	n := len(*p)
	if n > 0 {
		*p = append(*p, '.')
	}
	*p = append(*p, name...)
	return n
}

// PushIndex appends "[i]" and returns the length to restore.
func (p *PathBuilder) PushIndex(i int) int {
	n := len(*p)
	*p = append(*p, '[')
	*p = strconv.AppendInt(*p, int64(i), 10)
	*p = append(*p, ']')
	return n
}

// Pop restores the length a Push or PushIndex returned.
func (p *PathBuilder) Pop(n int) { *p = (*p)[:n] }
