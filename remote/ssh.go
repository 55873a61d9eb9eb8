package remote

import (
	"context"
	"errors"

	"armbench/targets"
)

func openSSH(ctx context.Context, t targets.Target, o Options) (Device, error) {
	return nil, &OpError{Op: "connect", Target: t.Name, Addr: t.Host, Err: errors.New("ssh devices are not built yet")}
}
