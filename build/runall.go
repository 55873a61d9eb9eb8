package build

import (
	"context"
	"runtime"
	"sync"

	"armbench/profiles"
)

// RunAll builds several plans at once, at most parallel at a time
// (min(2, NumCPU) when parallel ≤ 0). All builds share the go command's
// build cache, so common packages compile once. One failed build does not
// stop the others; cancelling ctx stops them all. Results are in plan
// order. emit receives the plan's index with each event; it may be nil and
// is never called concurrently.
func RunAll(ctx context.Context, plans []profiles.Plan, parallel int, emit func(i int, ev Event)) []Result {
	if parallel <= 0 {
		parallel = min(2, runtime.NumCPU())
	}
	results := make([]Result, len(plans))
	var mu sync.Mutex
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := range plans {
		// Taking the slot here, not in the goroutine, starts builds in plan
		// order; once ctx is cancelled the rest finish at once with its error.
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var e func(Event)
			if emit != nil {
				e = func(ev Event) {
					mu.Lock()
					defer mu.Unlock()
					emit(i, ev)
				}
			}
			results[i] = Run(ctx, plans[i], e)
		}()
	}
	wg.Wait()
	return results
}
