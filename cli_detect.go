package main

import (
	"context"
	"errors"
)

// Placeholder until detection lands; replaced by its owner.
func cmdDetect(ctx context.Context, c *cli, args []string) error {
	return errors.New("detect: not built yet")
}
