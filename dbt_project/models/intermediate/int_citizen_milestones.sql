{#- One row per citizen: the first date of each milestone of Københavnermodellen (docs/data.md §5),
    from the active events only (cancelled and replaced events do not count).

    Incremental by citizen: a night rebuilds only the citizens whose record or events changed
    since the last build, as int_citizens_changed lists them (including the citizen an event
    was moved away from), and reads only their events. -#}
{{
    config(
        materialized='incremental',
        unique_key='citizen_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

{#- not materialized: several CTEs read these; materialising them would copy and hash every
    event each night, where a night needs only the events of the citizens it touches. -#}
with all_events as not materialized (
    select * from {{ ref('int_case_events_resolved') }}
),

all_citizens as not materialized (
    select * from {{ ref('int_citizens_current') }}
),

changes as not materialized (
    select * from {{ ref('int_citizens_changed') }}
),

{% if is_incremental() %}
{%- set built = last_built('changed_at') %}

touched as (
    select citizen_id from changes where changed_at > {{ built }}
),

citizens as (
    select * from all_citizens where citizen_id in (select citizen_id from touched)
),

events as (
    select * from all_events
    where citizen_id in (select citizen_id from touched) and is_active
),
{% else %}
citizens as (
    select * from all_citizens
),

events as (
    select * from all_events
    where is_active
),
{% endif %}

this_build as (
    select greatest(
        (select max(changed_at) from all_events),
        (select max(loaded_at) from all_citizens)
    ) as changed_at
),

firsts as (
    select
        events.citizen_id,
        min(events.event_date) filter (
            where events.event_type = 'asylcenter_samtale'
            and events.event_date <= citizens.arrival_date
        ) as asylum_centre_contact_date,
        min(events.event_date) filter (where events.event_type = 'kompetenceafklaring')
            as competence_clarification_date,
        min(events.event_date) filter (where events.event_type = 'virksomhedspraktik')
            as first_internship_date,
        min(events.event_date) filter (where events.event_type in ('ordinaert_job', 'igu'))
            as first_employment_date,
        min(events.event_date) filter (where events.event_type = 'danskuddannelse_start')
            as danish_education_start_date,
        min(events.event_date) filter (where events.event_type = 'selvforsoergende')
            as self_support_date,
        min(events.event_date) filter (where events.event_type = 'welcome_house')
            as first_welcome_house_date,
        min(events.event_date) filter (where events.event_type = 'fraflytning')
            as moved_away_date,
        array_agg(distinct events.detail order by events.detail) filter (
            where events.event_type = 'welcome_house' and events.detail is not null
        ) as volunteer_organisations
    from events
    inner join citizens using (citizen_id)
    group by events.citizen_id
),

exams as (
    -- The first passed Prøve i Dansk at PD2 or above, on or after the start of Danish education.
    select events.citizen_id, min(events.event_date) as danish_exam_passed_date
    from events
    inner join firsts using (citizen_id)
    where events.event_type = 'danskproeve_bestaaet'
        and events.detail in ('PD2', 'PD3', 'Studieprøven')
        and events.event_date >= firsts.danish_education_start_date
    group by events.citizen_id
),

milestones as (
    select
        citizens.citizen_id,
        citizens.arrival_date,
        extract(year from citizens.arrival_date)::integer as arrival_year,
        citizens.programme,
        citizens.sex,
        case
            -- A blank birth date is a member of its own, never a null or an age band.
            when citizens.birth_year is null then 'unknown'
            when extract(year from citizens.arrival_date) - citizens.birth_year < 18 then '0-17'
            when extract(year from citizens.arrival_date) - citizens.birth_year < 25 then '18-24'
            when extract(year from citizens.arrival_date) - citizens.birth_year < 35 then '25-34'
            when extract(year from citizens.arrival_date) - citizens.birth_year < 45 then '35-44'
            else '45+'
        -- Typed: PostgreSQL would type a case of literals text in one build, varchar in another.
        end::varchar as age_band,
        firsts.asylum_centre_contact_date,
        firsts.competence_clarification_date,
        firsts.first_internship_date,
        firsts.first_employment_date,
        firsts.danish_education_start_date,
        exams.danish_exam_passed_date,
        firsts.self_support_date,
        firsts.first_welcome_house_date,
        firsts.moved_away_date,
        coalesce(firsts.volunteer_organisations, array[]::varchar[]) as volunteer_organisations,
        this_build.changed_at
    from citizens
    left join firsts using (citizen_id)
    left join exams using (citizen_id)
    cross join this_build
)

select * from milestones
