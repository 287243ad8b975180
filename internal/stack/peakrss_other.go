//go:build unix && !linux

package stack

import "errors"

// peakRSS needs /proc: only Linux has it.
func peakRSS(int) (int64, error) {
	return 0, errors.New("peak rss is only read on linux (/proc/<pid>/status)")
}
