#!/bin/sh
# Preview in CI: shows what a merge would change and fails the check unless that is nothing
# (or, with --allow-changes, only says so). Runs where the pipeline has the stack's state; no
# cluster credentials are needed, since the preview goes on without a cluster and says so.
#
#   preview.sh pulumi <program dir> [--allow-changes]     (the stack: $PULUMI_STACK or the selected one)
#   preview.sh terraform|tofu <config dir> [--allow-changes]
#
# Exit: 0 no changes, 2 changes (shown above; with --allow-changes: 0), 1 the preview failed.
set -u
tool=${1:?usage: preview.sh pulumi|terraform|tofu <dir> [--allow-changes]}
dir=${2:?usage: preview.sh pulumi|terraform|tofu <dir> [--allow-changes]}
allow=${3:-}
cd "$dir" || exit 1

case $tool in
pulumi)
    # --expect-no-changes fails the preview when anything would change; --diff shows each
    # property that would, as a reviewer reads it: `~` update, `+` create, `-` delete,
    # `+-` replace.
    pulumi preview --diff --expect-no-changes --non-interactive ${PULUMI_STACK:+--stack "$PULUMI_STACK"}
    status=$?
    # The CLI exits 255 on an error and on changes alike; its summary tells which.
    if [ "$status" -ne 0 ]; then
        pulumi preview --json --non-interactive ${PULUMI_STACK:+--stack "$PULUMI_STACK"} >/dev/null 2>&1 && status=2 || status=1
    fi
    ;;
terraform | tofu)
    # -detailed-exitcode: 0 no changes, 1 error, 2 changes.
    "$tool" plan -detailed-exitcode -input=false -no-color
    status=$?
    ;;
*)
    echo "preview.sh: unknown tool $tool (pulumi, terraform or tofu)" >&2
    exit 1
    ;;
esac

case $status in
0) echo "preview: no changes" ;;
2)
    echo "preview: the changes above would be made"
    [ "$allow" = "--allow-changes" ] && exit 0
    ;;
*) echo "preview: failed (see above)" >&2 ;;
esac
exit "$status"
