{#- What materialization blocks call around their build: hooks, comments, indexes, grants
    and the statement that creates a relation of a given type. -#}

{#- Runs the hooks (`pre_hooks` / `post_hooks` of the context) of one side of the
    transaction. Hooks outside it (`transaction: false`) follow a commit, as in dbt; a new
    transaction then opens again, so what the block does next still commits (or rolls back)
    with the node. -#}
{% macro run_hooks(hooks, inside_transaction=True) -%}
    {%- set selected = [] -%}
    {%- for hook in hooks -%}
        {%- if hook.transaction == inside_transaction -%}{%- do selected.append(hook) -%}{%- endif -%}
    {%- endfor -%}
    {%- if selected and not inside_transaction -%}
        {%- call statement(auto_begin=false) -%} commit {%- endcall -%}
    {%- endif -%}
    {%- for hook in selected -%}
        {%- set hook_sql = render(hook.sql) | trim -%}
        {%- if hook_sql | length > 0 -%}
            {%- call statement(auto_begin=inside_transaction) -%} {{ hook_sql }} {%- endcall -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if selected and not inside_transaction -%}
        {%- call statement(auto_begin=false) -%} begin {%- endcall -%}
    {%- endif -%}
{%- endmacro %}

{#- A hook as config() takes it: its SQL and the side of the transaction it runs on. -#}
{% macro make_hook_config(sql, inside_transaction) -%}
    {{- tojson({'sql': sql, 'transaction': inside_transaction}) -}}
{%- endmacro %}

{% macro in_transaction(sql) -%}
    {{- make_hook_config(sql, inside_transaction=true) -}}
{%- endmacro %}

{#- persist_docs: the model's description and its columns' as comments. -#}
{% macro persist_docs(relation, model, for_relation=true, for_columns=true) -%}
    {{ return(adapter.dispatch('persist_docs', 'dbt')(relation, model, for_relation, for_columns)) }}
{%- endmacro %}

{% macro default__persist_docs(relation, model, for_relation, for_columns) -%}
    {%- if for_relation and config.persist_relation_docs() and model.description -%}
        {%- do run_query(alter_relation_comment(relation, model.description)) -%}
    {%- endif -%}
    {%- if for_columns and config.persist_column_docs() and model.columns -%}
        {%- set existing = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
        {%- set documented = {} -%}
        {%- for name, column in model.columns.items() -%}
            {%- if name in existing -%}{%- do documented.update({name: column}) -%}{%- endif -%}
        {%- endfor -%}
        {%- set comments = alter_column_comment(relation, documented) | trim -%}
        {%- if comments | length > 0 -%}
            {%- do run_query(comments) -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro alter_relation_comment(relation, relation_comment) -%}
    {{ return(adapter.dispatch('alter_relation_comment', 'dbt')(relation, relation_comment)) }}
{%- endmacro %}

{% macro postgres__alter_relation_comment(relation, comment) -%}
    {%- set kind = 'view' if relation.type == 'view' else ('materialized view' if relation.type == 'materialized_view' else 'table') -%}
    comment on {{ kind }} {{ relation }} is {{ dbt.string_literal(dbt.escape_single_quotes(comment)) }};
{%- endmacro %}

{% macro alter_column_comment(relation, column_dict) -%}
    {{ return(adapter.dispatch('alter_column_comment', 'dbt')(relation, column_dict)) }}
{%- endmacro %}

{% macro postgres__alter_column_comment(relation, column_dict) -%}
    {%- for name, column in column_dict.items() if column.description -%}
        comment on column {{ relation }}.{{ adapter.quote(name) }} is {{ dbt.string_literal(dbt.escape_single_quotes(column.description)) }};
    {% endfor -%}
{%- endmacro %}

{#- The model's `indexes` config (dbt-postgres form: columns, unique, type). -#}
{% macro create_indexes(relation) -%}
    {{ adapter.dispatch('create_indexes', 'dbt')(relation) }}
{%- endmacro %}

{% macro default__create_indexes(relation) -%}
    {%- for index in config.get('indexes', default=[]) -%}
        {%- set index_sql = get_create_index_sql(relation, index) -%}
        {%- if index_sql -%}{%- do run_query(index_sql) -%}{%- endif -%}
    {%- endfor -%}
{%- endmacro %}

{% macro get_create_index_sql(relation, index_dict) -%}
    {{ return(adapter.dispatch('get_create_index_sql', 'dbt')(relation, index_dict)) }}
{%- endmacro %}

{% macro default__get_create_index_sql(relation, index_dict) -%}
    {{ return(none) }}
{%- endmacro %}

{% macro postgres__get_create_index_sql(relation, index_dict) -%}
    {%- set columns = index_dict.columns -%}
    {%- set quoted = [] -%}
    {%- for column in columns -%}{%- do quoted.append(adapter.quote(column)) -%}{%- endfor -%}
    create {% if index_dict.unique %}unique {% endif %}index if not exists
    {{ adapter.quote(local_md5(relation.identifier ~ '_' ~ (columns | join('_')) ~ '_' ~ (index_dict.unique or false) ~ '_' ~ (index_dict.type or ''))) }}
    on {{ relation }} {% if index_dict.type %}using {{ index_dict.type }} {% endif %}({{ quoted | join(', ') }});
{%- endmacro %}

{#- Grants the `grants` config's privileges (`{privilege: [grantee, ...]}`); with
    should_revoke, the privileges given before and no longer configured are revoked. -#}
{% macro apply_grants(relation, grant_config, should_revoke=true) -%}
    {{ return(adapter.dispatch('apply_grants', 'dbt')(relation, grant_config, should_revoke)) }}
{%- endmacro %}

{% macro default__apply_grants(relation, grant_config, should_revoke=true) -%}
    {%- if grant_config -%}
        {%- set current = {} -%}
        {%- if should_revoke -%}
            {%- set shown = run_query("select privilege_type, grantee from information_schema.role_table_grants where grantor = current_role and grantee != current_role and table_schema = '" ~ relation.schema ~ "' and table_name = '" ~ relation.identifier ~ "'") -%}
            {%- set current = adapter.standardize_grants_dict(shown) -%}
        {%- endif -%}
        {%- for privilege, grantees in current.items() -%}
            {%- set gone = [] -%}
            {%- for grantee in grantees if grantee not in grant_config.get(privilege, []) -%}{%- do gone.append(adapter.quote(grantee)) -%}{%- endfor -%}
            {%- if gone -%}{%- do run_query('revoke ' ~ privilege ~ ' on ' ~ relation ~ ' from ' ~ (gone | join(', '))) -%}{%- endif -%}
        {%- endfor -%}
        {%- for privilege, grantees in grant_config.items() -%}
            {%- set given = grantees if grantees is not string else [grantees] -%}
            {%- set new = [] -%}
            {%- for grantee in given if grantee not in current.get(privilege, []) -%}{%- do new.append(adapter.quote(grantee)) -%}{%- endfor -%}
            {%- if new -%}{%- do run_query('grant ' ~ privilege ~ ' on ' ~ relation ~ ' to ' ~ (new | join(', '))) -%}{%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}

{#- Whether grants may have carried over to the relation (so that apply_grants must compare
    them): not for a new relation; for a replaced one only with copy_grants (false on
    PostgreSQL, which drops grants with the relation). -#}
{% macro should_revoke(existing_relation, full_refresh_mode=true) -%}
    {%- if not existing_relation -%}
        {{ return(false) }}
    {%- elif full_refresh_mode -%}
        {{ return(false) }}
    {%- else -%}
        {{ return(true) }}
    {%- endif -%}
{%- endmacro %}

{#- `create table ... as` or `create view ... as`, by the relation's type. -#}
{% macro get_create_sql(relation, sql) -%}
    {{ return(adapter.dispatch('get_create_sql', 'dbt')(relation, sql)) }}
{%- endmacro %}

{% macro default__get_create_sql(relation, sql) -%}
    {%- if relation.is_view -%}
        {{ get_create_view_as_sql(relation, sql) }}
    {%- elif relation.is_table -%}
        {{ get_create_table_as_sql(false, relation, sql) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error('get_create_sql: cannot create a relation of type ' ~ relation.type) }}
    {%- endif -%}
{%- endmacro %}
