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
    no_color=0; for a in "$@"; do [ "$a" = "-no-color" ] && no_color=1; done
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

    # Terraform's diagnostics, as its human output prints them: plain with -no-color, boxed and coloured otherwise,
    # the detail wrapped to the width (78 columns without a terminal). Warnings go to stdout, errors to stderr.
    diagnostic() { # diagnostic warning|error "Summary" "subject lines or empty" "detail paragraph" ["second paragraph"]
      local severity="$1" summary="$2" subject="$3"; shift 3
      local body="" paragraph width=78
      [ "$no_color" = 1 ] || width=76 # the box takes two columns
      [ -n "$subject" ] && body="$subject"$'\n\n'
      for paragraph in "$@"; do body+="$(printf '%s' "$paragraph" | fold -s -w "$width" | sed 's/[[:space:]]*$//')"$'\n\n'; done
      body="${body%$'\n\n'}"
      local label="Warning" color=33 fd=1
      [ "$severity" = error ] && { label="Error"; color=31; fd=2; }
      if [ "$no_color" = 1 ]; then
        printf '\n%s: %s\n\n%s\n' "$label" "$summary" "$body" >&$fd
      else
        local e=$'\033'
        { printf '%s[%sm╷%s[0m%s[0m\n' "$e" "$color" "$e" "$e"
          printf '%s[%sm│%s[0m %s[0m%s[1m%s[%sm%s: %s[0m%s[0m%s[1m%s%s[0m\n' "$e" "$color" "$e" "$e" "$e" "$e" "$color" "$label" "$e" "$e" "$e" "$summary" "$e"
          printf '%s[%sm│%s[0m %s[0m\n' "$e" "$color" "$e" "$e"
          while IFS= read -r line; do printf '%s[%sm│%s[0m %s[0m%s\n' "$e" "$color" "$e" "$e" "$line"; done <<< "$body"
          printf '%s[%sm╵%s[0m%s[0m\n' "$e" "$color" "$e" "$e"; } >&$fd
      fi
    }

    # The root module's variables against the values given (tfvars, -var, TF_VAR_*), as Terraform checks them before
    # planning: a tfvars value nothing declares is a warning (two shown, the rest counted), a -var nothing declares
    # and a declared variable without default that nothing sets are errors. Only when the folder has .tf files.
    check_variables() {
      compgen -G '*.tf' > /dev/null || return 0
      local declared
      declared="$(awk 'FNR==1{file=FILENAME} /^variable "/{match($0,/"[^"]+"/); name=substr($0,RSTART+1,RLENGTH-2); line=FNR; def=0; inblock=1; next}
                      inblock && /^[[:space:]]+default[[:space:]]*=/{def=1}
                      inblock && /^}/{print name, def, file, line; inblock=0}' *.tf)"
      local given="" undeclared=() cli_undeclared=() missing=() name
      local varfile; varfile="$(arg_value -var-file "$@")" || varfile=""
      if [ -n "$varfile" ] && [ -f "$varfile" ]; then
        while IFS= read -r name; do
          given+=" $name "
          grep -q "^$name " <<< "$declared" || undeclared+=("$name")
        done < <(sed -n 's/^\([A-Za-z_][A-Za-z0-9_-]*\)[[:space:]]*=.*/\1/p' "$varfile")
      fi
      for a in "$@"; do case "$a" in -var=*) name="${a#-var=}"; name="${name%%=*}"; given+=" $name "
        grep -q "^$name " <<< "$declared" || cli_undeclared+=("$name");; esac; done
      while IFS= read -r name; do given+=" ${name#TF_VAR_} "; done < <(env | sed -n 's/^\(TF_VAR_[A-Za-z0-9_-]*\)=.*/\1/p')
      while read -r name def file line; do
        [ -n "$name" ] && [ "$def" = 0 ] && [[ "$given" != *" $name "* ]] && missing+=("$name $file $line")
      done <<< "$declared"
      local shown=0
      for name in "${undeclared[@]}"; do
        shown=$((shown + 1)); [ "$shown" -gt 2 ] && continue
        diagnostic warning "Value for undeclared variable" "" \
          "The root module does not declare a variable named \"$name\" but a value was found in file \"$varfile\". If you meant to use this value, add a \"variable\" block to the configuration." \
          "To silence these warnings, use TF_VAR_... environment variables to provide certain \"global\" settings to all configurations in your organization. To reduce the verbosity of these warnings, use the -compact-warnings option."
      done
      if [ "$shown" -gt 2 ]; then
        diagnostic warning "Values for undeclared variables" "" "In addition to the other similar warnings shown, $((shown - 2)) other variable(s) defined without being declared."
      fi
      for name in "${cli_undeclared[@]}"; do
        diagnostic error "Value for undeclared variable" "" \
          "A variable named \"$name\" was assigned on the command line, but the root module does not declare a variable of that name. To use this value, add a \"variable\" block to the configuration."
      done
      local entry file line
      for entry in "${missing[@]}"; do
        read -r name file line <<< "$entry"
        diagnostic error "No value for required variable" "$(printf '  on %s line %s:\n%4s: variable "%s" {' "$file" "$line" "$line" "$name")" \
          "The root module input variable \"$name\" is not set, and has no default value. Use a -var or -var-file command line argument to provide a value for this variable."
      done
      [ "${#cli_undeclared[@]}" -eq 0 ] && [ "${#missing[@]}" -eq 0 ]
    }

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
        check_variables "$@" || exit 1
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
