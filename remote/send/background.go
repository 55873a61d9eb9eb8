package send

// background is cache work done while the device installs. Copies are
// named by their sha256, so one written for a deploy that then fails
// costs only room until prune.
type background struct {
	done chan struct{}
	err  error
}

func inBackground(fn func() error) *background {
	b := &background{done: make(chan struct{})}
	go func() {
		defer close(b.done)
		b.err = fn()
	}()
	return b
}

// wait returns the work's error; nil for no work.
func (b *background) wait() error {
	if b == nil {
		return nil
	}
	<-b.done
	return b.err
}
