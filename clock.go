package csphub

import (
	"sync"
	"time"
)

// Clock is where every rule gets the time, so that expiries and deadlines are
// testable without sleeping. Times are UTC, truncated to microseconds so that
// both database engines store and return exactly the same instant.
type Clock interface {
	Now() time.Time
}

// SystemClock reads the machine's clock.
type SystemClock struct{}

func (SystemClock) Now() time.Time { return Normalize(time.Now()) }

// Normalize returns t in UTC at microsecond precision.
func Normalize(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// ManualClock is a clock that moves only when told to.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock starts a manual clock at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{now: Normalize(t)} }

func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = Normalize(c.now.Add(d))
	c.mu.Unlock()
}

// Set moves the clock to t.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = Normalize(t)
	c.mu.Unlock()
}
