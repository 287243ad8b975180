package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultSizesAreIssue10s(t *testing.T) {
	cfg, err := parseArgs(nil)
	require.NoError(t, err)
	assert.Equal(t, allPhases, cfg.Phases)
	assert.Equal(t, 3, cfg.IntakeRuns, "the intake ratio is a median of 3 runs")
	assert.Equal(t, 5000, cfg.BurstCases, "the goal's size")
	assert.Equal(t, 10*time.Minute, cfg.SteadyFor)
	assert.Zero(t, cfg.SteadyRate, "half the measured intake")
	assert.Equal(t, 30*time.Second, cfg.SteadyGap)
	assert.Zero(t, cfg.BurstAck, "long enough for the warnings")
	assert.False(t, cfg.Pprof, "no profiles unless asked")
}

func TestPprofFlag(t *testing.T) {
	cfg, err := parseArgs([]string{"-quick", "-phases=burst", "-pprof"})
	require.NoError(t, err)
	assert.True(t, cfg.Pprof)
	assert.Equal(t, []string{phaseBurst}, cfg.Phases)
}

func TestQuickKeepsWhatIsGiven(t *testing.T) {
	cfg, err := parseArgs([]string{"-quick", "-burst=5000", "-phases=burst, steady"})
	require.NoError(t, err)
	assert.Equal(t, 5000, cfg.BurstCases, "given: kept")
	assert.Equal(t, 30*time.Second, cfg.SteadyFor, "not given: quick")
	assert.Equal(t, 10*time.Second, cfg.SteadyGap, "not given: quick")
	assert.Equal(t, 60, cfg.Cases)
	assert.Equal(t, 8*time.Second, cfg.BurstMinAck)
	assert.Equal(t, []string{phaseBurst, phaseSteady}, cfg.Phases)
	assert.True(t, cfg.has(phaseSteady))
	assert.False(t, cfg.has(phaseIntake))
}

func TestSteadyFlags(t *testing.T) {
	cfg, err := parseArgs([]string{"-quick", "-phases=steady", "-steady-rate=5", "-steady-gap=45s"})
	require.NoError(t, err)
	assert.Equal(t, 5.0, cfg.SteadyRate)
	assert.Equal(t, 45*time.Second, cfg.SteadyGap, "given: kept under -quick")
	assert.Equal(t, 30*time.Second, cfg.SteadyFor)
}

func TestFlagsRefused(t *testing.T) {
	for _, args := range [][]string{
		{"-phases=intake,timers"},
		{"-phases="},
		{"-burst=0"},
		{"-burst-ack=1500ms"},
		{"-steady-gap=1s"},
		{"-steady-gap=2500ms"},
		{"-steady-ack=30s"}, // gone: each steady case has its own clock (steadyPlan)
		{"-steady=1s"},
		{"-steady-rate=-1"},
		{"-server=staging"},
	} {
		_, err := parseArgs(args)
		assert.Error(t, err, "%v", args)
	}
}
