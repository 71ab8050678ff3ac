// Package redis connects to Redis, which carries creditbridge's task queue
// (asynq) and nothing that is not also in PostgreSQL.
package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Open parses url, connects and pings. Per-call context deadlines are
// honoured and maintenance notifications (absent on self-hosted Redis)
// are disabled so the client does not log a handshake error.
func Open(ctx context.Context, url string) (*goredis.Client, error) {
	opt, err := goredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis: parse REDIS_URL: %w", err)
	}
	opt.ContextTimeoutEnabled = true
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	opt.ReadTimeout = 5 * time.Second
	opt.WriteTimeout = 5 * time.Second
	c := goredis.NewClient(opt)
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("redis: ping %s: %w", opt.Addr, err)
	}
	return c, nil
}
