{#- Serve this builder's wheel repo (venvbuild:repo:path) as static files with
    directory listings, through nginx. Pillar (all optional):

    venvbuild:
      repo:
        path: /srv/venvbuild
        url: http://{{ grains['fqdn'] }}:8181     # what targets use (mine)
        group: www-data    # optional: only this group may read the repo (never write)
        nginx:
          listen: 0.0.0.0
          port: 8181
          server_name: _
          config: /etc/nginx/conf.d/venvbuild-repo.conf
          package: nginx
          manage_service: true    # false: only write the config (your own nginx)
#}
{%- set repo = salt['pillar.get']('venvbuild:repo', {}) %}
{%- set nginx = repo.get('nginx', {}) %}
{%- set manage = nginx.get('manage_service', True) %}

venvbuild_repo_dir:
  file.directory:
    - name: {{ repo.get('path', '/srv/venvbuild') | json }}
    - makedirs: True
    - user: root
{%- if repo.get('group') %}
    - group: {{ repo.get('group') | json }}
    - mode: '0750'
{%- else %}
    - mode: '0755'
{%- endif %}

{%- if manage %}
venvbuild_nginx_pkg:
  pkg.installed:
    - name: {{ nginx.get('package', 'nginx') | json }}
{%- endif %}

venvbuild_nginx_conf:
  file.managed:
    - name: {{ nginx.get('config', '/etc/nginx/conf.d/venvbuild-repo.conf') | json }}
    - source: salt://venvbuild/files/nginx-repo.conf.jinja
    - template: jinja
    - makedirs: True
    - mode: '0644'
    - context:
        root: {{ repo.get('path', '/srv/venvbuild') | json }}
        listen: {{ nginx.get('listen', '0.0.0.0') | json }}
        port: {{ nginx.get('port', 8181) | json }}
        server_name: {{ nginx.get('server_name', '_') | json }}
    - require:
      - file: venvbuild_repo_dir
{%- if manage %}
      - pkg: venvbuild_nginx_pkg

venvbuild_nginx_service:
  service.running:
    - name: nginx
    - enable: True
    - reload: True
    - watch:
      - file: venvbuild_nginx_conf
{%- endif %}
