// Command flux-engine is the Flux peer of test/bench/peers-flux.bench.ts. It does, for one Git
// repository and one target namespace, the steps that Flux's source-controller and
// kustomize-controller do for a GitRepository plus a Kustomization, with the same libraries at
// the versions those controllers pin:
//
//  1. a shallow, single-branch clone of the branch over HTTP with go-git (source-controller);
//  2. a generated kustomization.yaml setting the target namespace, and a kustomize build
//     (fluxcd/pkg/kustomize: the Kustomization's spec.targetNamespace, no remote bases);
//  3. normalisation, Flux's owner labels, and a staged server-side apply that dry-runs each
//     object to detect drift and applies only what differs (fluxcd/pkg/ssa ApplyAllStaged with
//     kustomize-controller's field owner and its default --concurrent-ssa of 4), with a client
//     configured as Flux configures it (fluxcd/pkg/runtime/client: QPS 50, burst 300, and no
//     client-side limit when the API server has API Priority and Fairness).
//
// A reconcile runs at every --interval (Flux's Kustomization interval: the only way Flux
// corrects drift) and on POST /reconcile (what a notification-controller Receiver causes);
// POST /reconcile?namespace=NS reconciles into NS instead of --target-namespace, so one
// long-running process serves many targets, as one kustomize-controller serves many
// Kustomizations.
// GET /status reports the last reconcile. Left out, so its figures are a lower bound on Flux's:
// the artifact tarball and its HTTP download, status and inventory writes on the custom
// resources, events, and the hop from one controller to the other.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	fluxkustomize "github.com/fluxcd/pkg/kustomize"
	runtimeclient "github.com/fluxcd/pkg/runtime/client"
	"github.com/fluxcd/pkg/ssa"
	"github.com/fluxcd/pkg/ssa/normalize"
	ssautil "github.com/fluxcd/pkg/ssa/utils"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

type options struct {
	url, branch, token, namespace, name, listen string
	interval                                    time.Duration
	qps                                         float64
	burst, concurrentSSA                        int
}

type status struct {
	Reconciles int    `json:"reconciles"`
	Revision   string `json:"revision"`
	Objects    int    `json:"objects"`
	Changed    int    `json:"changed"`
	Error      string `json:"error"`
	DurationMs int64  `json:"durationMs"`
}

type engine struct {
	opts    options
	kube    client.Client
	trigger chan string
	mu      sync.Mutex
	last    status
}

func parseFlags() options {
	var o options
	flag.StringVar(&o.url, "url", "", "Git repository URL (http or https).")
	flag.StringVar(&o.branch, "branch", "main", "Branch to follow.")
	flag.StringVar(&o.token, "token", "", "HTTP basic auth password for the Git server.")
	flag.StringVar(&o.namespace, "target-namespace", "", "Namespace of every object applied.")
	flag.StringVar(&o.name, "name", "apps", "Name of each Kustomization, for Flux's owner labels.")
	flag.StringVar(&o.listen, "listen", "127.0.0.1:0", "Address of /reconcile, /status and /healthz.")
	flag.DurationVar(&o.interval, "interval", 0, "Reconcile interval (0: only on POST /reconcile).")
	flag.Float64Var(&o.qps, "kube-api-qps", 50, "Client QPS, as kustomize-controller's default.")
	flag.IntVar(&o.burst, "kube-api-burst", 300, "Client burst, as kustomize-controller's default.")
	flag.IntVar(&o.concurrentSSA, "concurrent-ssa", 4, "As kustomize-controller's --concurrent-ssa.")
	flag.Parse()
	if o.url == "" || o.namespace == "" {
		log.Fatal("--url and --target-namespace are required")
	}
	return o
}

// clone fetches the branch's newest commit into dir and returns its revision.
func (e *engine) clone(ctx context.Context, dir string) (string, error) {
	repo, err := git.PlainCloneContext(ctx, dir, false, &git.CloneOptions{
		URL:           e.opts.url,
		Auth:          &githttp.BasicAuth{Username: "flux", Password: e.opts.token},
		ReferenceName: plumbing.NewBranchReferenceName(e.opts.branch),
		SingleBranch:  true,
		Depth:         1,
		Tags:          git.NoTags,
	})
	if err != nil {
		return "", fmt.Errorf("clone: %w", err)
	}
	head, err := repo.Head()
	if err != nil {
		return "", err
	}
	return e.opts.branch + "@sha1:" + head.Hash().String(), nil
}

// build generates kustomization.yaml (with the target namespace) in dir and builds it.
func (e *engine) build(dir, namespace string) ([]*unstructured.Unstructured, error) {
	ks := unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1",
		"kind":       "Kustomization",
		"metadata":   map[string]any{"name": e.opts.name, "namespace": namespace},
		"spec":       map[string]any{"targetNamespace": namespace, "path": "./"},
	}}
	if _, err := fluxkustomize.NewGenerator(dir, ks).WriteFile(dir); err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	resources, err := fluxkustomize.SecureBuild(dir, dir, false)
	if err != nil {
		return nil, fmt.Errorf("kustomize build: %w", err)
	}
	manifests, err := resources.AsYaml()
	if err != nil {
		return nil, err
	}
	return ssautil.ReadObjects(bytes.NewReader(manifests))
}

// apply is the staged server-side apply kustomize-controller runs on each reconcile.
func (e *engine) apply(ctx context.Context, objects []*unstructured.Unstructured, namespace string) (int, error) {
	if err := normalize.UnstructuredList(objects); err != nil {
		return 0, err
	}
	manager := ssa.NewResourceManager(e.kube, nil, ssa.Owner{
		Field: "kustomize-controller",
		Group: "kustomize.toolkit.fluxcd.io",
	})
	manager.SetOwnerLabels(objects, e.opts.name, namespace)
	manager.SetConcurrency(e.opts.concurrentSSA)
	changes, err := manager.ApplyAllStaged(ctx, objects, ssa.DefaultApplyOptions())
	changed := 0
	if changes != nil {
		for _, entry := range changes.Entries {
			if entry.Action != ssa.UnchangedAction && entry.Action != ssa.SkippedAction {
				changed++
			}
		}
	}
	return changed, err
}

func (e *engine) reconcile(ctx context.Context, namespace string) {
	start := time.Now()
	var s status
	dir, err := os.MkdirTemp("", "flux-engine-")
	if err == nil {
		defer func() { _ = os.RemoveAll(dir) }()
		s, err = e.run(ctx, dir, namespace)
	}
	if err != nil {
		s.Error = err.Error()
		log.Printf("reconcile failed: %v", err)
	}
	s.DurationMs = time.Since(start).Milliseconds()
	e.mu.Lock()
	s.Reconciles = e.last.Reconciles + 1
	e.last = s
	e.mu.Unlock()
}

func (e *engine) run(ctx context.Context, dir, namespace string) (status, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	revision, err := e.clone(ctx, dir)
	if err != nil {
		return status{}, err
	}
	objects, err := e.build(dir, namespace)
	if err != nil {
		return status{Revision: revision}, err
	}
	changed, err := e.apply(ctx, objects, namespace)
	return status{Revision: revision, Objects: len(objects), Changed: changed}, err
}

func (e *engine) loop(ctx context.Context) {
	var tick <-chan time.Time
	if e.opts.interval > 0 {
		ticker := time.NewTicker(e.opts.interval)
		defer ticker.Stop()
		tick = ticker.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case namespace := <-e.trigger:
			e.reconcile(ctx, namespace)
		case <-tick:
			e.reconcile(ctx, e.opts.namespace)
		}
	}
}

func (e *engine) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /reconcile", func(w http.ResponseWriter, r *http.Request) {
		namespace := r.URL.Query().Get("namespace")
		if namespace == "" {
			namespace = e.opts.namespace
		}
		select {
		case e.trigger <- namespace:
			w.WriteHeader(http.StatusAccepted)
		default:
			http.Error(w, "too many pending requests", http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		e.mu.Lock()
		s := e.last
		e.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(s)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	})
	return mux
}

func main() {
	opts := parseFlags()
	config := runtimeclient.GetConfigOrDie(runtimeclient.Options{
		QPS:   float32(opts.qps),
		Burst: opts.burst,
	})
	kube, err := client.New(config, client.Options{})
	if err != nil {
		log.Fatal(err)
	}
	e := &engine{opts: opts, kube: kube, trigger: make(chan string, 16)}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	server := &http.Server{Addr: opts.listen, Handler: e.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := server.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Fatal(err)
		}
	}()
	e.loop(ctx)
	_ = server.Close()
}
