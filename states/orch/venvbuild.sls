{#- Build on the builders, publish through the mine, then install on the targets
    in batches:

        salt-run state.orchestrate orch.venvbuild
        salt-run state.orchestrate orch.venvbuild pillar='{"venvbuild": {"orch": {"targets": "api*", "batch": 2}}}'

    Pillar venvbuild:orch (all optional):
      builders: 'roles:venvbuild-builder'      builders_tgt_type: grain
      targets: '* and not G@roles:venvbuild-builder'   targets_tgt_type: compound
      batch: '25%'
#}
{%- set orch = salt['pillar.get']('venvbuild:orch', {}) %}
{%- set builders = orch.get('builders', 'roles:venvbuild-builder') %}
{%- set builders_type = orch.get('builders_tgt_type', 'grain') %}
{%- set targets = orch.get('targets', '* and not G@roles:venvbuild-builder') %}
{%- set targets_type = orch.get('targets_tgt_type', 'compound') %}

venvbuild_build_wheels:
  salt.state:
    - tgt: {{ builders | json }}
    - tgt_type: {{ builders_type }}
    - sls:
      - venvbuild.builder
    - failhard: True

venvbuild_publish_mine:
  salt.function:
    - name: mine.update
    - tgt: {{ builders | json }}
    - tgt_type: {{ builders_type }}
    - require:
      - salt: venvbuild_build_wheels

venvbuild_install_venvs:
  salt.state:
    - tgt: {{ targets | json }}
    - tgt_type: {{ targets_type }}
    - sls:
      - venvbuild
    - batch: {{ orch.get('batch', '25%') | json }}
    - require:
      - salt: venvbuild_publish_mine
