package agents

import (
	"testing"
	"time"
)

func TestMarkOffline(t *testing.T) {
	s := NewAgentService()
	s.lastSeen["a"] = time.Now().Add(-time.Hour)
	if got := s.MarkOffline(time.Now(), time.Minute); len(got) != 1 {
		t.Fatalf("want 1 offline agent, got %v", got)
	}
}
