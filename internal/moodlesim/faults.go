package moodlesim

import (
	"math/rand/v2"
	"slices"
	"time"
)

// FaultKind is what an injected fault looks like to the client.
type FaultKind int

const (
	// FaultException answers a Moodle JSON error (dml_write_exception, errorcode
	// "dmlwriteexception"); nothing was written.
	FaultException FaultKind = iota + 1
	// FaultHTTP500 answers HTTP 500 with an empty body; nothing was written.
	FaultHTTP500
	// FaultTimeout holds the request until its context is cancelled or Delay passes,
	// then answers 504; nothing was written.
	FaultTimeout
	// FaultAfterWrite applies the write, then answers HTTP 500 with an empty body: the
	// response was lost, so a retry must not duplicate side effects.
	FaultAfterWrite
)

var faultNames = map[FaultKind]string{
	FaultException: "dmlwriteexception", FaultHTTP500: "http500", FaultTimeout: "timeout", FaultAfterWrite: "afterwrite",
}

// FaultConfig says which write calls fail and how. Decisions come from a random
// source seeded with Seed, one draw per eligible call, so a given sequence of calls
// fails the same way every run.
type FaultConfig struct {
	Seed int64
	// Rate is the probability that an eligible call fails (1 = every one).
	Rate float64
	// Functions are the eligible write functions; empty means every write function.
	Functions []string
	Kind      FaultKind
	// Delay bounds FaultTimeout (0 = until the request context is cancelled).
	Delay time.Duration
	// Max stops injecting after that many faults (0 = no limit).
	Max int
}

type faultState struct {
	cfg      FaultConfig
	rng      *rand.Rand
	injected int
}

func (f *faultState) decide(fn string) (FaultKind, time.Duration) {
	if len(f.cfg.Functions) > 0 && !slices.Contains(f.cfg.Functions, fn) {
		return 0, 0
	}
	if f.cfg.Max > 0 && f.injected >= f.cfg.Max {
		return 0, 0
	}
	if f.rng.Float64() >= f.cfg.Rate {
		return 0, 0
	}
	f.injected++
	return f.cfg.Kind, f.cfg.Delay
}

// InjectFaults makes write calls fail as cfg says, replacing any earlier config.
func (s *Sim) InjectFaults(cfg FaultConfig) {
	s.locked(func() { s.faults = &faultState{cfg: cfg, rng: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x5eed))} })
}

// ClearFaults stops fault injection.
func (s *Sim) ClearFaults() { s.locked(func() { s.faults = nil }) }

// FaultsInjected is how many faults were injected since the last InjectFaults.
func (s *Sim) FaultsInjected() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults == nil {
		return 0
	}
	return s.faults.injected
}

// courseFault makes a course's part of local_enrolctl_write fail in its transaction.
type courseFault struct {
	code, message string
	left          int // failures still to inject; < 0: until cleared
}

// FailCourse makes the next times writes of one course fail (every one when times is
// 0) as the plugin reports a course whose transaction failed: the course's first item,
// errorcode and message (say dbconnectionfailed with its HTML, or dmlwriteexception),
// nothing of that course written; the other courses of the call go on.
func (s *Sim) FailCourse(courseID int64, errorcode, message string, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.courseFaults == nil {
		s.courseFaults = map[int64]*courseFault{}
	}
	left := times
	if times <= 0 {
		left = -1
	}
	s.courseFaults[courseID] = &courseFault{code: errorcode, message: message, left: left}
}

// ClearCourseFaults stops FailCourse's faults.
func (s *Sim) ClearCourseFaults() { s.locked(func() { s.courseFaults = nil }) }

// courseFault answers the injected failure of a course, if any (under s.mu).
func (s *Sim) courseFault(courseID int64) *wsError {
	f := s.courseFaults[courseID]
	if f == nil || f.left == 0 {
		return nil
	}
	if f.left > 0 {
		f.left--
	}
	return &wsError{Exception: exWrite, ErrorCode: f.code, Message: f.message}
}
