package main

import (
	"context"
	"errors"
)

// Placeholder until the remote engine lands; replaced by its owner.
func cmdDeploy(ctx context.Context, c *cli, args []string) error {
	return errors.New("deploy: not built yet")
}
func cmdTrust(ctx context.Context, c *cli, args []string) error {
	return errors.New("trust: not built yet")
}
func cmdRollback(ctx context.Context, c *cli, args []string) error {
	return errors.New("rollback: not built yet")
}
func cmdRun(ctx context.Context, c *cli, args []string) error {
	return errors.New("run: not built yet")
}
