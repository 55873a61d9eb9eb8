package fleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"armbench/internal/shell"
	"armbench/profiles"
	"armbench/remote"
	"armbench/targets"
)

// Variables a health command finds in its environment, besides the
// profile's runtime settings (GOGC, GOMAXPROCS, …).
const (
	EnvBinary  = "ARMBENCH_BINARY"  // absolute path of the installed binary
	EnvTarget  = "ARMBENCH_TARGET"  // the target's name
	EnvProfile = "ARMBENCH_PROFILE" // the profile's name
	EnvRunner  = "ARMBENCH_RUNNER"  // the target's runner ("" when it runs natively)
)

// checkHealth runs plan's health check on dev until it passes or its
// attempts are used up; failed is told of every failed attempt. It
// returns the number of attempts made.
func checkHealth(ctx context.Context, dev remote.Device, plan profiles.Plan, failed func(attempt int, err error)) (int, error) {
	h := plan.Health
	var err error
	for i := 1; i <= h.Attempts(); i++ {
		if err = checkOnce(ctx, dev, plan); err == nil {
			return i, nil
		}
		if ctx.Err() != nil {
			return i, ctx.Err()
		}
		failed(i, err)
		if i == h.Attempts() {
			return i, err
		}
		select {
		case <-time.After(h.Interval):
		case <-ctx.Done():
			return i, ctx.Err()
		}
	}
	return h.Attempts(), err
}

func checkOnce(ctx context.Context, dev remote.Device, plan profiles.Plan) error {
	h := plan.Health
	if h.URL != "" {
		return checkURL(ctx, dev, h)
	}
	// The device's timeout(1) ends a hung check on the device; the
	// deadline here ends the wait should the device have no timeout.
	ctx, cancel := context.WithTimeout(ctx, h.Timeout+2*time.Second)
	defer cancel()
	_, err := dev.Exec(ctx, healthScript(dev.DeployDir(), plan))
	if err != nil && errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: no answer within %s", h.Command, h.Timeout)
	}
	return err
}

// healthScript runs the check command under sh with the binary's path and
// the profile's runtime settings in its environment, bounded by timeout(1)
// when the device has it.
func healthScript(dir string, plan profiles.Plan) string {
	q := shell.Quote
	bin := strings.TrimSuffix(dir, "/") + "/" + plan.DeployName()
	env := []string{
		shell.QuoteAssign(EnvBinary, bin),
		shell.QuoteAssign(EnvTarget, plan.Target.Name),
		shell.QuoteAssign(EnvProfile, plan.Profile.Name),
		shell.QuoteAssign(EnvRunner, plan.Target.Runner),
	}
	for _, e := range plan.RunEnv {
		env = append(env, shell.QuoteAssign(e.Key, e.Value))
	}
	secs := strconv.Itoa(int(math.Ceil(plan.Health.Timeout.Seconds())))
	cmd := q(plan.Health.Command)
	return "cd -- " + q(dir) + " || exit\nexport " + strings.Join(env, " ") + "\n" +
		"if command -v timeout >/dev/null 2>&1; then exec timeout -k 1 " + secs + " sh -c " + cmd + "; fi\n" +
		"exec sh -c " + cmd + "\n"
}

// checkURL fetches the check's URL from the device's side: through the
// SSH connection (direct-tcpip), so localhost is the device and nothing
// needs to be installed on it. Any 2xx answer passes.
func checkURL(ctx context.Context, dev remote.Device, h *targets.Health) error {
	d, ok := dev.(remote.Dialer)
	if !ok {
		return fmt.Errorf("GET %s: this device cannot open connections from its side", h.URL)
	}
	client := &http.Client{
		Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true},
		Timeout:   h.Timeout,
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.URL, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("GET %s: %s", h.URL, resp.Status)
	}
	return nil
}
