package agents

// Keys read from fleet.yaml.
const (
	HeartbeatIntervalKey = "heartbeat.interval"
)
