package main

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The worker collects garbage at defaultGCPercent unless GOGC says otherwise.
func TestGCPercentDefaultsTo200UnlessGOGCIsSet(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)

	assert.Equal(t, defaultGCPercent, setGCPercent(func(string) string { return "" }))
	assert.Equal(t, defaultGCPercent, debug.SetGCPercent(100), "in force")

	debug.SetGCPercent(150) // as the runtime would have from GOGC=150
	assert.Equal(t, 150, setGCPercent(func(k string) string {
		if k == "GOGC" {
			return "150"
		}
		return ""
	}))
	assert.Equal(t, 150, debug.SetGCPercent(100), "GOGC is left as the runtime read it")
}
