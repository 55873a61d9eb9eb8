package send

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/melbahja/goph"
	"github.com/pkg/sftp"

	"armbench/remote/event"
	"armbench/remote/fault"
	"armbench/remote/install"
	"armbench/remote/sshconn"
)

// sftpFile uploads the whole file over sftp, then has the install script
// verify and install it: the way for a device without zstd or gzip.
type sftpFile struct{}

func (sftpFile) Send(ctx context.Context, j *Job) (Sent, bool, error) {
	if err := j.start(); err != nil {
		return Sent{}, false, err
	}
	tmp := install.TmpPrefix(j.Name) + install.RandomSuffix()
	pr := event.NewMeter(j.File.Size, j.Emit)
	wire, err := sftpUpload(ctx, j.Conn, j.src, pr, j.Dir+"/"+tmp)
	if err != nil {
		return Sent{Step: "upload"}, false, wholeFileErr(ctx, err, "")
	}
	pr.Finish()
	j.Emit(event.Step{Name: "upload", Done: true, Time: time.Now()})
	j.Emit(event.Step{Name: "verify", Time: time.Now()})
	run, err := install.Stream(ctx, j.Conn, install.Script(j.Dir, j.Name, tmp, "", j.File.SHA256, j.File.Size), nil, j.Emit)
	if err != nil {
		return Sent{Step: install.FailedStep(run.Markers, "verify")}, false, wholeFileErr(ctx, err, run.Stderr)
	}
	return Sent{Markers: run.Markers, Wire: wire}, true, nil
}

// sftpUpload is the fallback when the device has no decompressor: sftp
// with many writes in flight, not goph's one-32KiB-round-trip-at-a-time
// Upload.
func sftpUpload(ctx context.Context, c *sshconn.Conn, src io.Reader, pr *event.Meter, path string) (int64, error) {
	client, err := goph.Client{Client: c.Client}.NewSftp(sftp.UseConcurrentWrites(true), sftp.MaxConcurrentRequestsPerFile(64))
	if err != nil {
		return 0, c.ConnErr(fmt.Errorf("sftp: %w", err))
	}
	defer client.Close()
	stop := context.AfterFunc(ctx, func() { client.Close() })
	defer stop()
	f, err := client.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_EXCL)
	if err != nil {
		return 0, classifySFTP(err)
	}
	var n int64
	pr2 := &progressReader{r: src, p: pr, wire: func() int64 { return n }}
	n, err = f.ReadFromWithConcurrency(pr2, 64)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		client.Remove(path)
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		return n, c.ConnErr(classifySFTP(err))
	}
	return n, nil
}

func classifySFTP(err error) error {
	var se *sftp.StatusError
	if errors.As(err, &se) {
		switch se.FxCode() {
		case sftp.ErrSSHFxPermissionDenied:
			return fmt.Errorf("%w: %v", fault.ErrPermission, err)
		}
		if strings.Contains(strings.ToLower(se.Error()), "no space") {
			return fmt.Errorf("%w: %v", fault.ErrDiskFull, err)
		}
	}
	if errors.Is(err, os.ErrPermission) {
		return fmt.Errorf("%w: %v", fault.ErrPermission, err)
	}
	return err
}
