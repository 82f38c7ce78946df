namespace Tesslate.Build.Tests.Terraform;

/// <summary>The FakeTerraform script (bash), kept in C# so the test project needs no resource wiring.</summary>
internal static class FakeTerraformScript
{
    public const string Text = """
    #!/usr/bin/env bash
    # FakeTerraform: stands in for the terraform binary, which cannot be installed here. Behaviour follows Terraform's
    # documented semantics for the commands the adapter uses. Configuration and records live next to this script.
    fake="$(cd "$(dirname "$0")" && pwd)"

    # Record the call: working directory, then each argument, separated by the ASCII unit separator.
    { printf '%s' "$PWD"; for a in "$@"; do printf '\037%s' "$a"; done; printf '\n'; } >> "$fake/calls.log"
    if [ -n "${TF_IN_AUTOMATION:-}" ]; then echo "TF_IN_AUTOMATION=$TF_IN_AUTOMATION" >> "$fake/env.log"; fi

    cmd="$1"; shift
    sub=""
    if [ "$cmd" = "state" ]; then sub="$1"; shift; fi
    name="$cmd${sub:+-$sub}"

    if [ -f "$fake/fail-$name" ]; then cat "$fake/fail-$name" >&2; exit 1; fi

    arg_value() { # arg_value -out "$@" → value of -out=...
      local flag="$1"; shift
      for a in "$@"; do case "$a" in "$flag="*) printf '%s' "${a#*=}"; return 0;; esac; done
      return 1
    }
    has_flag() { local flag="$1"; shift; for a in "$@"; do [ "$a" = "$flag" ] && return 0; done; return 1; }

    lock_error() {
      cat >&2 <<'LOCK'
    ╷
    │ Error: Error acquiring the state lock
    │
    │ Error message: operation error S3: PutObject, https response error
    │ StatusCode: 412, api error PreconditionFailed: At least one of the
    │ pre-conditions you specified did not hold
    │ Lock Info:
    │   ID:        8a1e2a4c-3b7d-4f7e-9a43-1f0c2d6e5b19
    │   Path:      example-state/beta/terraform.tfstate
    │   Operation: OperationTypeApply
    │   Who:       alice@laptop
    │   Version:   1.11.4
    │   Created:   2025-05-02 09:14:07.123456 +0000 UTC
    │   Info:
    │
    │
    │ Terraform acquires a state lock to protect the state from being written
    │ by multiple users at the same time. Please resolve the issue above and try
    │ again. For most commands, you can disable locking with the "-lock=false"
    │ flag, but this is not recommended.
    ╵
    LOCK
      exit 1
    }

    require_init() {
      if [ ! -f .terraform/terraform.tfstate ]; then
        echo 'Error: Backend initialization required, please run "terraform init"' >&2; exit 1
      fi
    }

    hcl_value() { sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\"\\(.*\\)\"[[:space:]]*\$/\\1/p" "$2" | head -n1; }

    case "$name" in
      version)
        # Without -json real terraform prints text ("Terraform v1.11.4" / "on linux_amd64"), never JSON.
        if ! has_flag -json "$@"; then
          if [ -f "$fake/version.txt" ]; then cat "$fake/version.txt"; else printf 'Terraform v1.11.4\non linux_amd64\n'; fi
        elif [ -f "$fake/version.json" ]; then cat "$fake/version.json"; else
          echo '{"terraform_version":"1.11.4","platform":"linux_amd64","provider_selections":{},"terraform_outdated":false}'; fi
        ;;
      init)
        has_flag -migrate-state "$@" && { echo "fake: -migrate-state must never be used" >&2; exit 3; }
        file="$(arg_value -backend-config "$@")" || { echo "Initializing the backend... (no -backend-config)"; }
        if [ -n "$file" ] && [ ! -f "$file" ]; then echo "Error: Failed to read file $file" >&2; exit 1; fi
        mkdir -p .terraform
        printf '{"version":3,"serial":1,"lineage":"fake","backend":{"type":"s3","config":{"bucket":"%s","key":"%s","region":"%s","encrypt":true,"use_lockfile":true},"hash":1}}\n' \
          "$(hcl_value bucket "$file")" "$(hcl_value key "$file")" "$(hcl_value region "$file")" > .terraform/terraform.tfstate
        echo "Initializing the backend..."
        echo "Terraform has been successfully initialized!"
        ;;
      plan)
        require_init
        [ -f "$fake/lock-held" ] && lock_error
        if vars="$(arg_value -var-file "$@")"; then
          [ -f "$vars" ] || { echo "Error: Failed to read variables file: Given variables file $vars does not exist." >&2; exit 1; }
          printf '%s\037%s\n' "$(stat -c %a "$vars")" "$vars" >> "$fake/var-files.log"
        fi
        code="$(cat "$fake/plan-exitcode" 2>/dev/null || echo 2)"
        if [ "$code" = 1 ]; then echo "Error: Invalid value for variable" >&2; exit 1; fi
        out="$(arg_value -out "$@")" && echo "FAKE PLAN (holds sensitive values)" > "$out"
        if [ "$code" = 0 ]; then echo "No changes. Your infrastructure matches the configuration."; exit 0; fi
        echo "Plan: 1 to add, 1 to change, 1 to destroy."
        if has_flag -detailed-exitcode "$@"; then exit 2; fi
        exit 0
        ;;
      show)
        plan="${*: -1}"
        [ -f "$plan" ] || { echo "Error: Failed to read the given file as a state or plan file" >&2; exit 1; }
        # Without -json the plan is human text ("Terraform will perform the following actions: ..."), as real terraform prints it.
        if has_flag -json "$@"; then cat "$fake/show.json"; else cat "$fake/show.txt"; fi
        ;;
      apply)
        require_init
        [ -f "$fake/lock-held" ] && lock_error
        plan="${*: -1}"
        if [ -f "$fake/stale" ]; then
          printf '╷\n│ Error: Saved plan is stale\n│\n│ The given plan file can no longer be applied because the state was changed\n│ by another operation after the plan was created.\n╵\n' >&2
          exit 1
        fi
        [ -f "$plan" ] || { echo "Error: Failed to load \"$plan\" as a plan file" >&2; exit 1; }
        echo "$plan" >> "$fake/applied.log"
        if [ -f "$fake/apply-waits-for-interrupt" ]; then
          interrupts=0
          on_interrupt() {
            interrupts=$((interrupts + 1)); echo "$interrupts" > "$fake/sigints"
            [ "$interrupts" = 1 ] && echo "Interrupt received. Gracefully shutting down..." && echo interrupted > "$fake/interrupted"
          }
          trap on_interrupt INT
          echo started > "$fake/apply-started"
          while [ "$interrupts" = 0 ]; do sleep 0.05; done
          # Finish "in-flight operations" for a while: a second interrupt in this time would be counted.
          for _ in $(seq 30); do sleep 0.05; done
          echo "Stopping operation... released the state lock" > "$fake/apply-finished"
          exit 1
        fi
        echo "Apply complete! Resources: 1 added, 1 changed, 1 destroyed."
        if [ -f "$fake/fail-after-apply" ]; then echo "Error: creating EKS Node Group: timeout" >&2; exit 1; fi
        ;;
      destroy)
        require_init
        [ -f "$fake/lock-held" ] && lock_error
        echo "Destroy complete! Resources: 3 destroyed."
        ;;
      output)
        require_init
        if has_flag -json "$@"; then
          if [ -f "$fake/outputs.json" ]; then cat "$fake/outputs.json"; else echo '{}'; fi
        elif [ -s "$fake/outputs.txt" ]; then cat "$fake/outputs.txt"
        else
          # No outputs: a warning diagnostic on stderr and nothing on stdout, as real terraform does without -json.
          printf '╷\n│ Warning: No outputs found\n│\n│ The state file either has no outputs defined, or all the defined outputs\n│ are empty.\n╵\n' >&2
        fi
        ;;
      state-list)
        require_init
        cat "$fake/state-list.txt" 2>/dev/null
        ;;
      state-show)
        require_init
        echo "# ${*: -1}:"; echo 'resource "aws_s3_bucket" "x" {'; echo '    bucket = "example"'; echo '}'
        ;;
      state-rm)
        require_init
        [ -f "$fake/lock-held" ] && lock_error
        for a in "$@"; do case "$a" in -*) ;; *) echo "Removed $a";; esac; done
        ;;
      *)
        echo "fake terraform: unsupported command $name" >&2; exit 127
        ;;
    esac
    """;
}
