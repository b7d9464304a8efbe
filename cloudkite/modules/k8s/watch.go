package k8s

import (
	"fmt"
	"strings"
	"time"

	"go.starlark.net/starlark"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/project-starkite/starkite/libkite"
)

// Watch and wait (spec §6).

// endErr is how a watch-based op ends when its context is done: nil when
// the op's own deadline passed (a timeout ends a watch normally), the
// thread's cancellation otherwise.
func (x *call) endErr() error {
	if err := libkite.Context(x.thread).Err(); err != nil {
		return err
	}
	return nil
}

// eventObject is an event's object, or nil when its payload is not an
// object (ERROR Status events).
func eventObject(ev watch.Event) map[string]any {
	if ev.Type == watch.Error {
		return nil
	}
	u, ok := ev.Object.(*unstructured.Unstructured)
	if !ok || u.Object == nil {
		return nil
	}
	return u.Object
}

// watch(kind, namespace="", labels="", timeout="", handler=None, fields="")
// -> int (with handler) | list[{"type", "object"}]
func opWatch(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var kind, ns, labels, timeout, fieldSel string
	var handler starlark.Value
	if err := x.bind(args, kwargs, "kind", &kind, "namespace?", &ns, "labels?", &labels, "timeout?", &timeout,
		"handler??", &handler, "fields?", &fieldSel); err != nil {
		return nil, err
	}
	if handler == starlark.None {
		handler = nil
	}
	if handler != nil {
		if _, ok := handler.(starlark.Callable); !ok {
			return nil, &plainError{fmt.Errorf("%s: for parameter handler: got %s, want callable", x.fn, handler.Type())}
		}
	}
	if err := x.begin(timeout); err != nil {
		return nil, err
	}
	ki, err := x.c.resolveKind(x.ctx, kind)
	if err != nil {
		return nil, err
	}
	w, err := x.resource(ki, x.namespaceFor(ki, ns)).Watch(x.ctx, metav1.ListOptions{LabelSelector: labels, FieldSelector: fieldSel})
	if err != nil {
		if x.ctx.Err() != nil {
			if err := x.endErr(); err != nil {
				return nil, err
			}
			return finishWatch(handler, 0, nil)
		}
		return nil, err
	}
	defer w.Stop()
	count := 0
	var events []starlark.Value
	for {
		var ev watch.Event
		var ok bool
		select {
		case <-x.ctx.Done():
			if err := x.endErr(); err != nil {
				return nil, err
			}
			return finishWatch(handler, count, events)
		case ev, ok = <-w.ResultChan():
		}
		if !ok {
			return finishWatch(handler, count, events)
		}
		o := eventObject(ev)
		if o == nil {
			continue
		}
		d, err := toStarlark(o)
		if err != nil {
			return nil, err
		}
		if handler == nil {
			e := starlark.NewDict(2)
			_ = e.SetKey(starlark.String("type"), starlark.String(ev.Type))
			_ = e.SetKey(starlark.String("object"), d)
			events = append(events, e)
			continue
		}
		count++
		r, err := starlark.Call(x.thread, handler, starlark.Tuple{starlark.String(ev.Type), d}, nil)
		if err != nil {
			return nil, fmt.Errorf("handler: %w", err)
		}
		if r == starlark.False {
			return starlark.MakeInt(count), nil
		}
	}
}

func finishWatch(handler starlark.Value, count int, events []starlark.Value) (starlark.Value, error) {
	if handler != nil {
		return starlark.MakeInt(count), nil
	}
	if events == nil {
		events = []starlark.Value{}
	}
	return starlark.NewList(events), nil
}

// waitCondition is a wait_for condition: the status.conditions type that
// decides it (conditions-first) and the phases that meet it otherwise.
type waitCondition struct {
	condType string // "" = phase only
	phases   []string
	deleted  bool
}

// parseCondition maps wait_for's condition argument (case-insensitive).
func parseCondition(s string) waitCondition {
	switch strings.ToLower(s) {
	case "ready":
		return waitCondition{condType: "Ready", phases: []string{"Running", "Succeeded"}}
	case "available":
		return waitCondition{condType: "Available"}
	case "progressing":
		return waitCondition{condType: "Progressing"}
	case "initialized":
		return waitCondition{condType: "Initialized"}
	case "podscheduled":
		return waitCondition{condType: "PodScheduled"}
	case "complete", "completed":
		return waitCondition{condType: "Complete", phases: []string{"Succeeded"}}
	case "running":
		return waitCondition{phases: []string{"Running", "Succeeded"}}
	case "succeeded":
		return waitCondition{phases: []string{"Succeeded"}}
	case "deleted", "delete":
		return waitCondition{deleted: true}
	}
	return waitCondition{condType: s}
}

// evaluate decides whether obj meets c: a status.conditions entry of the
// condition's type alone decides (its message is the message); only
// without one is status.phase consulted (message `phase: <P>`), also when
// the object has no conditions at all (Kite fix).
func (c waitCondition) evaluate(obj map[string]any) (bool, string) {
	if c.deleted {
		return false, ""
	}
	status := nestedMap(obj, "status")
	if c.condType != "" {
		conds, _ := status["conditions"].([]any)
		for _, ci := range conds {
			cm, ok := ci.(map[string]any)
			if !ok || !strings.EqualFold(str(cm, "type"), c.condType) {
				continue
			}
			return str(cm, "status") == "True", str(cm, "message")
		}
	}
	phase := str(status, "phase")
	msg := ""
	if phase != "" {
		msg = "phase: " + phase
	}
	for _, p := range c.phases {
		if phase == p {
			return true, msg
		}
	}
	return false, msg
}

// waitResult is wait_for's return value.
func waitResult(ready bool, obj map[string]any, msg string) (starlark.Value, error) {
	var res starlark.Value = starlark.None
	if obj != nil {
		var err error
		if res, err = toStarlark(obj); err != nil {
			return nil, err
		}
	}
	d := starlark.NewDict(3)
	_ = d.SetKey(starlark.String("ready"), starlark.Bool(ready))
	_ = d.SetKey(starlark.String("resource"), res)
	_ = d.SetKey(starlark.String("message"), starlark.String(msg))
	return d, nil
}

// maxEmptyRewatches bounds wait_for's resumes on watches the server closes
// without delivering anything; then it gives up with `watch channel closed`.
const maxEmptyRewatches = 5

// wait_for(kind, name, condition="ready", namespace="", timeout="3m")
// -> {"ready": bool, "resource": dict|None, "message": str}
func opWaitFor(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var kind, name, ns string
	condition, timeout := "ready", "3m"
	if err := x.bind(args, kwargs, "kind", &kind, "name", &name, "condition?", &condition, "namespace?", &ns, "timeout?", &timeout); err != nil {
		return nil, err
	}
	if timeout == "" {
		timeout = "3m"
	}
	cond := parseCondition(condition)
	if err := x.begin(timeout); err != nil {
		return nil, err
	}
	ki, err := x.c.resolveKind(x.ctx, kind)
	if err != nil {
		return nil, err
	}
	res := x.resource(ki, x.namespaceFor(ki, ns))

	timedOut := func(last map[string]any) (starlark.Value, error) {
		if err := x.endErr(); err != nil {
			return nil, err
		}
		return waitResult(false, last, "timeout waiting for condition")
	}
	// fetch GETs the object and evaluates it: done reports a final answer.
	// After the first GET, NotFound means the object went away unseen.
	fetch := func(initial bool) (obj map[string]any, rv string, done bool, v starlark.Value, err error) {
		u, err := res.Get(x.ctx, name, metav1.GetOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) && cond.deleted {
				v, err = waitResult(true, nil, "resource deleted")
				return nil, "", true, v, err
			}
			if apierrors.IsNotFound(err) && !initial {
				v, err = waitResult(false, nil, "resource was deleted")
				return nil, "", true, v, err
			}
			if x.ctx.Err() != nil {
				v, err = timedOut(nil)
				return nil, "", true, v, err
			}
			return nil, "", true, nil, err
		}
		if ok, msg := cond.evaluate(u.Object); ok {
			v, err = waitResult(true, u.Object, msg)
			return u.Object, "", true, v, err
		}
		return u.Object, u.GetResourceVersion(), false, nil, nil
	}

	last, rv, done, v, err := fetch(true)
	if done {
		return v, err
	}
	opts := metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String()}
	empty := 0
	first := true
	for {
		opts.ResourceVersion = rv
		w, err := res.Watch(x.ctx, opts)
		if err != nil {
			if x.ctx.Err() != nil {
				return timedOut(last)
			}
			if first {
				return nil, err
			}
			return waitResult(false, last, "watch channel closed")
		}
		first = false
		got, refetch := false, false
		v, done, err := func() (starlark.Value, bool, error) {
			defer w.Stop()
			for {
				var ev watch.Event
				var ok bool
				select {
				case <-x.ctx.Done():
					v, err := timedOut(last)
					return v, true, err
				case ev, ok = <-w.ResultChan():
				}
				if !ok {
					return nil, false, nil
				}
				got = true
				if ev.Type == watch.Error {
					// e.g. 410 Gone: the resourceVersion is too old.
					refetch = true
					return nil, false, nil
				}
				u, ok := ev.Object.(*unstructured.Unstructured)
				if !ok || u.Object == nil {
					continue
				}
				if u.GetName() != name {
					continue
				}
				if r := u.GetResourceVersion(); r != "" {
					rv = r
				}
				switch ev.Type {
				case watch.Bookmark:
					continue
				case watch.Deleted:
					if cond.deleted {
						v, err := waitResult(true, u.Object, "resource deleted")
						return v, true, err
					}
					v, err := waitResult(false, u.Object, "resource was deleted")
					return v, true, err
				}
				last = u.Object
				if ok, msg := cond.evaluate(u.Object); ok {
					v, err := waitResult(true, u.Object, msg)
					return v, true, err
				}
			}
		}()
		if done {
			return v, err
		}
		if x.ctx.Err() != nil {
			return timedOut(last)
		}
		// The server closed the stream before the deadline: resume from
		// the last resourceVersion seen (re-fetching when it expired).
		if got {
			empty = 0
		} else if empty++; empty > maxEmptyRewatches {
			return waitResult(false, last, "watch channel closed")
		} else {
			select {
			case <-x.ctx.Done():
				return timedOut(last)
			case <-time.After(time.Duration(empty) * 100 * time.Millisecond):
			}
		}
		if refetch {
			var obj map[string]any
			obj, rv, done, v, err = fetch(false)
			if done {
				return v, err
			}
			last = obj
		}
	}
}
