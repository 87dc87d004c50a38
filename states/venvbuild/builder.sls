{#- Build and publish the wheels of every venv of this builder's pillar
    (venvbuild:venvs merged over venvbuild:defaults). #}
{%- set build_keys = ['packages', 'default_packages', 'constraints', 'global_constraints',
                      'python', 'install_tool', 'build_args', 'build_env', 'package_state',
                      'wheels_rebuild', 'repo_path', 'pip_noconf', 'uv_bin', 'build_pkgs',
                      'pkgs_state', 'pkgs_cache_valid_time', 'release', 'repo_user',
                      'repo_group', 'ca_bundle'] %}
{%- set venvs = salt['venvbuild.venv_configs']() %}
{%- for venv_id, cfg in venvs.items() %}
{{ venv_id }}_wheels:
  venvbuild.wheels_built:
    - name: {{ venv_id | json }}
{%- for key, value in cfg.items() | sort if key in build_keys %}
    - {{ key }}: {{ value | json }}
{%- endfor %}
{%- else %}
venvbuild_no_venvs:
  test.show_notification:
    - text: "venvbuild: no venvs in this builder's pillar (venvbuild:venvs); nothing to build"
{%- endfor %}
