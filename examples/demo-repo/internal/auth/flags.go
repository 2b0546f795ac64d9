package auth

import (
	"flag"
	"time"
)

var sessionTTL = flag.Duration("session-ttl", 12*time.Hour, "how long a session lives")
