package send

import "errors"

// Helper is the delta helper being installed on the device while the
// delta is encoded, off the deploy's critical path.
type Helper struct {
	done chan struct{}
	err  error
}

// StartHelper runs install in the background.
func StartHelper(install func() error) *Helper {
	h := &Helper{done: make(chan struct{})}
	go func() {
		defer close(h.done)
		h.err = install()
	}()
	return h
}

// Wait returns the install's error; a nil Helper is no helper at all.
func (h *Helper) Wait() error {
	if h == nil {
		return errors.New("no delta helper")
	}
	<-h.done
	return h.err
}
