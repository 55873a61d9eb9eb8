package main

import (
	"context"
	"errors"
)

// Placeholder until the bench engine lands; replaced by its owner.
func cmdBench(ctx context.Context, c *cli, args []string) error {
	return errors.New("bench: not built yet")
}
func cmdCompare(ctx context.Context, c *cli, args []string) error {
	return errors.New("compare: not built yet")
}
