{#- Commerce's order rules, each written once. fct_orders and int_order_lines_enriched compute
    their columns with these macros; the marts and the semantic model's measures read those
    columns (counts_toward_gmv, earns_commission, commission_eur) and never restate a rule. -#}

{#- Whether an order counts toward GMV: every order but cancelled ones (refunded orders stay in GMV). -#}
{% macro counts_toward_gmv(order_status) -%}
    {{ order_status }} != 'cancelled'
{%- endmacro %}

{#- Whether an order earns the marketplace its commission: neither cancelled nor refunded. -#}
{% macro earns_commission(order_status) -%}
    {{ order_status }} not in ('cancelled', 'refunded')
{%- endmacro %}

{#- Commission on an item amount: the amount x the merchant's commission rate (0 without a rate), EUR. -#}
{% macro commission_on(amount, commission_rate) -%}
    cast({{ amount }} * coalesce({{ commission_rate }}, 0) as decimal(18, 2))
{%- endmacro %}
