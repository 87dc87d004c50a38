{#- Install every venv of this minion's pillar (venvbuild:venvs, merged over
    venvbuild:defaults). Each becomes a state with the id <venv id>_venv, so
    services can `watch: - venvbuild: <venv id>_venv`. #}
{%- set venvs = salt['venvbuild.venv_configs'](show_secrets=True) %}
{%- for venv_id, cfg in venvs.items() %}
{{ venv_id }}_venv:
  venvbuild.installed:
    - name: {{ cfg.path | json }}
    - venv_id: {{ venv_id | json }}
{%- for key, value in cfg.items() | sort if key != 'path' %}
    - {{ key }}: {{ value | json }}
{%- endfor %}
{%- else %}
venvbuild_no_venvs:
  test.show_notification:
    - text: "venvbuild: no venvs in this minion's pillar (venvbuild:venvs); nothing to install"
{%- endfor %}
