// pulumi-language-codegen: the SDK generation half of Pulumi's language plugins, for
// `pulumi package gen-sdk` and `pulumi package add` in the test environment.
//
// The real `pulumi-language-python`/`-nodejs`/`-go` plugins are Go programs whose modules the
// test environment cannot fetch, and the hosts in this directory (Python's LanguageServer, the
// Node.js host) run programs but do not implement GeneratePackage. This plugin serves
// GeneratePackage exactly as the real plugins do: bind the schema with Pulumi's binder, then
// call Pulumi's own code generator for the language (pkg/v3/codegen/<language>, the same
// version as the CLI); and Link as far as the project's files go (see Link). The language is the suffix of the name it is started as, so
// `pulumi-language-python` may be a symlink to it in a directory put first on PATH only for
// SDK generation.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	gogen "github.com/pulumi/pulumi/pkg/v3/codegen/go"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/python"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is the pulumi module version the generators come from (go.mod).
const version = "3.259.0"

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	language string
}

func (h *host) Handshake(
	ctx context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

// GetPluginInfo reports the CLI's own version: the generators are that version's.
func (h *host) GetPluginInfo(ctx context.Context, _ *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (h *host) GeneratePackage(
	ctx context.Context, req *pulumirpc.GeneratePackageRequest,
) (*pulumirpc.GeneratePackageResponse, error) {
	loader, err := schema.NewLoaderClient(req.LoaderTarget)
	if err != nil {
		return nil, err
	}
	var spec schema.PackageSpec
	if err := json.Unmarshal([]byte(req.Schema), &spec); err != nil {
		return nil, err
	}
	pkg, diags, err := schema.BindSpec(spec, loader, schema.ValidationOptions{AllowDanglingReferences: true})
	if err != nil {
		return nil, err
	}
	if diags.HasErrors() {
		return nil, fmt.Errorf("the schema does not bind: %s", diags.Error())
	}
	files, err := h.generate(pkg, req, loader)
	if err != nil {
		return nil, err
	}
	for name, data := range files {
		path := filepath.Join(req.Directory, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return nil, err
		}
	}
	return &pulumirpc.GeneratePackageResponse{}, nil
}

// Link does to the project's files what the real plugins' Link does, so `pulumi package add`
// leaves the program as a user finds it: Python lists the SDK's directory in
// requirements.txt, Node.js adds it to package.json's dependencies as `file:<directory>`.
func (h *host) Link(ctx context.Context, req *pulumirpc.LinkRequest) (*pulumirpc.LinkResponse, error) {
	root := req.Info.GetRootDirectory()
	var instructions []string
	for _, dependency := range req.Packages {
		path := dependency.Path
		if filepath.IsAbs(path) {
			relative, err := filepath.Rel(root, path)
			if err != nil {
				return nil, err
			}
			path = relative
		}
		switch h.language {
		case "python":
			if err := appendLine(filepath.Join(root, "requirements.txt"), path); err != nil {
				return nil, err
			}
			module := "pulumi_" + strings.ReplaceAll(packageName(dependency.Package), "-", "_")
			instructions = append(instructions, "import "+module)
		case "nodejs":
			name, err := addNodeDependency(root, path)
			if err != nil {
				return nil, err
			}
			instructions = append(instructions, fmt.Sprintf("import * as %s from %q;", packageName(dependency.Package), name))
		default:
			return nil, fmt.Errorf("linking is not provided for %q", h.language)
		}
	}
	return &pulumirpc.LinkResponse{ImportInstructions: strings.Join(instructions, "\n")}, nil
}

// InstallDependencies has nothing to do: the test environment installs a program's
// dependencies itself, offline, from its caches (tests/env/harness).
func (h *host) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, stream pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	return nil
}

// packageName is the name programs know a package by: a parameterized package's own.
func packageName(dependency *pulumirpc.PackageDependency) string {
	if parameterization := dependency.GetParameterization(); parameterization.GetName() != "" {
		return parameterization.GetName()
	}
	return dependency.GetName()
}

func appendLine(file, line string) error {
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = fmt.Fprintln(f, line)
	return err
}

// addNodeDependency records the package in directory (relative to root) as a dependency of
// root's package.json and returns the package's name.
func addNodeDependency(root, directory string) (string, error) {
	var sdk struct {
		Name string `json:"name"`
	}
	data, err := os.ReadFile(filepath.Join(root, directory, "package.json"))
	if err != nil {
		return "", err
	}
	if err := json.Unmarshal(data, &sdk); err != nil {
		return "", err
	}
	project := map[string]any{}
	data, err = os.ReadFile(filepath.Join(root, "package.json"))
	if err != nil {
		return "", err
	}
	if err := json.Unmarshal(data, &project); err != nil {
		return "", err
	}
	dependencies, _ := project["dependencies"].(map[string]any)
	if dependencies == nil {
		dependencies = map[string]any{}
	}
	dependencies[sdk.Name] = "file:" + directory
	project["dependencies"] = dependencies
	data, err = json.MarshalIndent(project, "", "    ")
	if err != nil {
		return "", err
	}
	return sdk.Name, os.WriteFile(filepath.Join(root, "package.json"), append(data, '\n'), 0o644)
}

func (h *host) generate(
	pkg *schema.Package, req *pulumirpc.GeneratePackageRequest, loader schema.ReferenceLoader,
) (map[string][]byte, error) {
	tool := "pulumi-language-" + h.language
	switch h.language {
	case "python":
		return python.GeneratePackage(tool, pkg, req.ExtraFiles, loader)
	case "nodejs":
		return nodejs.GeneratePackage(tool, pkg, req.ExtraFiles, req.LocalDependencies, req.Local, loader)
	case "go":
		return gogen.GeneratePackage(tool, pkg, req.LocalDependencies)
	}
	return nil, fmt.Errorf("no code generator for %q", h.language)
}

func main() {
	language := strings.TrimPrefix(filepath.Base(os.Args[0]), "pulumi-language-")
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, &host{language: language})
			return nil
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
