package csphub_test

import (
	"testing"
	"time"

	"csphub"
)

func TestEnrollmentStateMachine(t *testing.T) {
	all := []csphub.EnrollmentState{"", csphub.EnrollmentSubmitted, csphub.EnrollmentEmailVerification, csphub.EnrollmentInReview,
		csphub.EnrollmentInfoRequested, csphub.EnrollmentApproved, csphub.EnrollmentRejected}
	allowed := map[[2]csphub.EnrollmentState]bool{
		{"", csphub.EnrollmentSubmitted}:                                     true,
		{csphub.EnrollmentSubmitted, csphub.EnrollmentEmailVerification}:     true,
		{csphub.EnrollmentSubmitted, csphub.EnrollmentInReview}:              true, // contact verified already
		{csphub.EnrollmentEmailVerification, csphub.EnrollmentInReview}:      true,
		{csphub.EnrollmentInReview, csphub.EnrollmentApproved}:               true,
		{csphub.EnrollmentInReview, csphub.EnrollmentRejected}:               true,
		{csphub.EnrollmentInReview, csphub.EnrollmentInfoRequested}:          true,
		{csphub.EnrollmentInReview, csphub.EnrollmentEmailVerification}:      true, // new primary contact
		{csphub.EnrollmentInfoRequested, csphub.EnrollmentInReview}:          true,
		{csphub.EnrollmentInfoRequested, csphub.EnrollmentEmailVerification}: true, // answered with a new contact
		{csphub.EnrollmentApproved, csphub.EnrollmentInReview}:               true, // legal name or country changed
	}
	for _, from := range all {
		for _, to := range all {
			if got, want := csphub.CanTransition(from, to), allowed[[2]csphub.EnrollmentState{from, to}]; got != want {
				t.Errorf("%q → %q: %v, want %v", from, to, got, want)
			}
		}
	}
	// rejected is final; approved and rejected are not open.
	for _, s := range []csphub.EnrollmentState{csphub.EnrollmentApproved, csphub.EnrollmentRejected} {
		if s.Open() {
			t.Errorf("%s is open", s)
		}
	}
	if !csphub.EnrollmentInfoRequested.Open() {
		t.Error("info_requested is not open")
	}
}

func TestAddBusinessDays(t *testing.T) {
	at := func(d int) time.Time { return time.Date(2026, 11, d, 9, 30, 0, 0, time.UTC) }
	for _, c := range []struct {
		from time.Time
		n    int
		want time.Time
	}{
		{at(23), 5, at(30)}, // Monday → next Monday
		{at(27), 5, time.Date(2026, 12, 4, 9, 30, 0, 0, time.UTC)}, // Friday → next Friday
		{at(28), 1, at(30)}, // Saturday → Monday
		{at(26), 2, at(30)}, // Thursday → Monday
		{at(23), 0, at(23)},
	} {
		if got := csphub.AddBusinessDays(c.from, c.n); !got.Equal(c.want) {
			t.Errorf("%v + %d business days = %v, want %v", c.from.Weekday(), c.n, got, c.want)
		}
	}
	e := csphub.Enrollment{State: csphub.EnrollmentInReview, DueAt: at(30)}
	if e.Overdue(at(30)) || !e.Overdue(at(30).Add(time.Second)) {
		t.Error("overdue is after the due date")
	}
	e.State = csphub.EnrollmentApproved
	if e.Overdue(at(30).Add(time.Hour)) {
		t.Error("a decided application is never overdue")
	}
}
