{#- Build and publish the wheels of every venv of this builder's pillar
    (venvbuild:venvs merged over venvbuild:defaults), with the options that
    matter to a build (venvbuild.venv_configs build_only=True). A pillar with
    problems builds nothing: each problem is a failed state named by it. #}
{%- set problems = salt['venvbuild.check_pillar']()['problems'] %}
{%- for problem in problems %}
venvbuild_pillar_problem_{{ loop.index }}:
  test.fail_without_changes:
    - name: {{ problem | json }}
    - comment: "venvbuild: {{ problems | length }} problem(s) in this builder's pillar; nothing was built (salt-call venvbuild.check_pillar lists them)"
{%- else %}
{%- set venvs = salt['venvbuild.venv_configs'](show_secrets=True, build_only=True) %}
{%- for venv_id, cfg in venvs.items() %}
{{ venv_id }}_wheels:
  venvbuild.wheels_built:
    - name: {{ venv_id | json }}
{%- for key, value in cfg.items() | sort %}
    - {{ key }}: {{ value | json }}
{%- endfor %}
{%- else %}
venvbuild_no_venvs:
  test.show_notification:
    - text: "venvbuild: no venvs in this builder's pillar (venvbuild:venvs); nothing to build"
{%- endfor %}
{%- endfor %}
