package send

import (
	"context"

	"armbench/remote/compress"
	"armbench/remote/event"
	"armbench/remote/install"
)

// stream pipes the whole file, compressed, through the device's own
// decompressor into the install script, which hashes it as it lands.
type stream struct{}

func (stream) Send(ctx context.Context, j *Job) (Sent, bool, error) {
	recv, enc := Decompressor(j.Tools)
	if recv == "" {
		return Sent{}, false, nil
	}
	if err := j.start(); err != nil {
		return Sent{}, false, err
	}
	tmp := install.TmpPrefix(j.Name) + install.RandomSuffix()
	pr := event.NewMeter(j.File.Size, j.Emit)
	body := &install.Body{Meter: pr, Send: func(w *install.CountingWriter) error {
		if enc == "zstd" {
			return j.Compress(w, j.src, pr)
		}
		return compress.Gzip(w, &progressReader{r: j.src, p: pr, wire: w.Count})
	}}
	run, err := install.Stream(ctx, j.Conn, install.Script(j.Dir, j.Name, tmp, recv, j.File.SHA256, j.File.Size), body, j.Emit)
	if err != nil {
		return Sent{Step: install.FailedStep(run.Markers, "upload")}, false, wholeFileErr(ctx, err, run.Stderr)
	}
	return Sent{Markers: run.Markers, Wire: run.Wire}, true, nil
}

// Decompressor picks how to send: a zstd or gzip stream into the
// device's own decompressor, or "" for sftp.
func Decompressor(tools []string) (recv, enc string) {
	for _, t := range tools {
		if t == "zstd" {
			return "zstd -d -q -c", "zstd"
		}
	}
	for _, t := range tools {
		if t == "gzip" {
			return "gzip -d -c", "gzip"
		}
	}
	return "", ""
}
