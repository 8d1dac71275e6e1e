//go:build tools

// Package tools pins the upstream control-plane commands this module builds:
// go build -o DIR k8s.io/kubernetes/cmd/<name>. k8s.io/kubernetes cannot be
// `go install`ed directly because its go.mod replaces the staging modules with
// ./staging paths; go.mod here replaces them with their published versions.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
