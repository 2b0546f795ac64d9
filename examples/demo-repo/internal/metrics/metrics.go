package metrics

// Registry collects process metrics.
type Registry struct{}
