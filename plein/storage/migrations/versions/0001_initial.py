"""Initial schema: the region tables of plein.schema and the operational tables.

Written out explicitly (not generated at run time) so that this revision stays what it was
when the schema changes later: changes get their own revisions.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_keys',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('role', sa.Text(), nullable=False),
    sa.Column('key_hash', sa.Text(), nullable=False),
    sa.Column('prefix', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('name', name=op.f('uq_api_keys_name'))
    )
    op.create_index(op.f('ix_api_keys_prefix'), 'api_keys', ['prefix'], unique=False)
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('role', sa.Text(), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('resource', sa.Text(), nullable=False),
    sa.Column('resource_id', sa.Text(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index(op.f('ix_audit_log_at'), 'audit_log', ['at'], unique=False)
    op.create_table('jobs',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('progress', sa.Double(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_by', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    op.create_index(op.f('ix_jobs_status'), 'jobs', ['status'], unique=False)
    op.create_table('municipalities',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('lat', sa.Double(), nullable=True),
    sa.Column('lon', sa.Double(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_municipalities'))
    )
    op.create_table('proposals',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.Text(), nullable=False),
    sa.Column('mode', sa.Text(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('fingerprint', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('decided_by', sa.Text(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposals'))
    )
    op.create_index(op.f('ix_proposals_created_at'), 'proposals', ['created_at'], unique=False)
    op.create_index(op.f('ix_proposals_status'), 'proposals', ['status'], unique=False)
    op.create_table('teams',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('sectors', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teams'))
    )
    op.create_table('coaches',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('team_id', sa.Text(), nullable=True),
    sa.Column('specialisations', sa.JSON(), nullable=False),
    sa.Column('capacity_points', sa.Double(), nullable=False),
    sa.Column('max_clients', sa.Integer(), nullable=False),
    sa.Column('municipalities', sa.JSON(), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('lat', sa.Double(), nullable=True),
    sa.Column('lon', sa.Double(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_coaches_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coaches'))
    )
    op.create_index(op.f('ix_coaches_team_id'), 'coaches', ['team_id'], unique=False)
    op.create_table('employers',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('sector', sa.Text(), nullable=True),
    sa.Column('municipality', sa.Text(), nullable=True),
    sa.Column('lat', sa.Double(), nullable=True),
    sa.Column('lon', sa.Double(), nullable=True),
    sa.ForeignKeyConstraint(['municipality'], ['municipalities.id'], name=op.f('fk_employers_municipality_municipalities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_employers'))
    )
    op.create_index(op.f('ix_employers_municipality'), 'employers', ['municipality'], unique=False)
    op.create_table('clients',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('skills', sa.JSON(), nullable=False),
    sa.Column('municipality', sa.Text(), nullable=True),
    sa.Column('lat', sa.Double(), nullable=True),
    sa.Column('lon', sa.Double(), nullable=True),
    sa.Column('postcode_area', sa.Text(), nullable=True),
    sa.Column('benefit_type', sa.Text(), nullable=False),
    sa.Column('intake_date', sa.Date(), nullable=False),
    sa.Column('age_band', sa.Text(), nullable=False),
    sa.Column('education_level', sa.Text(), nullable=False),
    sa.Column('dutch_level', sa.Text(), nullable=False),
    sa.Column('driving_licence', sa.Boolean(), nullable=False),
    sa.Column('hours_available', sa.Integer(), nullable=False),
    sa.Column('ladder_rung', sa.Integer(), nullable=True),
    sa.Column('complexity', sa.Integer(), nullable=False),
    sa.Column('newcomer', sa.Boolean(), nullable=False),
    sa.Column('special_group', sa.Boolean(), nullable=False),
    sa.Column('work_history', sa.JSON(), nullable=False),
    sa.Column('target_sectors', sa.JSON(), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('certificates', sa.JSON(), nullable=False),
    sa.Column('coach_id', sa.Text(), nullable=True),
    sa.Column('status', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['coach_id'], ['coaches.id'], name=op.f('fk_clients_coach_id_coaches')),
    sa.ForeignKeyConstraint(['municipality'], ['municipalities.id'], name=op.f('fk_clients_municipality_municipalities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clients'))
    )
    op.create_index(op.f('ix_clients_coach_id'), 'clients', ['coach_id'], unique=False)
    op.create_index(op.f('ix_clients_municipality'), 'clients', ['municipality'], unique=False)
    op.create_table('coach_absences',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('coach_id', sa.Text(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['coach_id'], ['coaches.id'], name=op.f('fk_coach_absences_coach_id_coaches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coach_absences'))
    )
    op.create_index(op.f('ix_coach_absences_coach_id'), 'coach_absences', ['coach_id'], unique=False)
    op.create_table('vacancies',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('skills', sa.JSON(), nullable=False),
    sa.Column('optional_skills', sa.JSON(), nullable=False),
    sa.Column('employer_id', sa.Text(), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('occupation', sa.Text(), nullable=True),
    sa.Column('sector', sa.Text(), nullable=True),
    sa.Column('municipality', sa.Text(), nullable=True),
    sa.Column('lat', sa.Double(), nullable=True),
    sa.Column('lon', sa.Double(), nullable=True),
    sa.Column('hours', sa.Integer(), nullable=True),
    sa.Column('requires_licence', sa.Boolean(), nullable=False),
    sa.Column('certificates', sa.JSON(), nullable=False),
    sa.Column('min_dutch_level', sa.Text(), nullable=True),
    sa.Column('supported_work', sa.Boolean(), nullable=False),
    sa.Column('positions', sa.Integer(), nullable=False),
    sa.Column('open_date', sa.Date(), nullable=False),
    sa.Column('close_date', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['employer_id'], ['employers.id'], name=op.f('fk_vacancies_employer_id_employers')),
    sa.ForeignKeyConstraint(['municipality'], ['municipalities.id'], name=op.f('fk_vacancies_municipality_municipalities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vacancies'))
    )
    op.create_index(op.f('ix_vacancies_employer_id'), 'vacancies', ['employer_id'], unique=False)
    op.create_index(op.f('ix_vacancies_municipality'), 'vacancies', ['municipality'], unique=False)
    op.create_table('assignments',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('client_id', sa.Text(), nullable=False),
    sa.Column('coach_id', sa.Text(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('approved_by', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_assignments_client_id_clients')),
    sa.ForeignKeyConstraint(['coach_id'], ['coaches.id'], name=op.f('fk_assignments_coach_id_coaches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignments'))
    )
    op.create_index(op.f('ix_assignments_client_id'), 'assignments', ['client_id'], unique=False)
    op.create_index(op.f('ix_assignments_coach_id'), 'assignments', ['coach_id'], unique=False)
    op.create_table('client_protected',
    sa.Column('client_id', sa.Text(), nullable=False),
    sa.Column('gender', sa.Text(), nullable=False),
    sa.Column('migration_background', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_client_protected_client_id_clients')),
    sa.PrimaryKeyConstraint('client_id', name=op.f('pk_client_protected'))
    )
    op.create_table('ladder_events',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('client_id', sa.Text(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('rung', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_ladder_events_client_id_clients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ladder_events'))
    )
    op.create_index(op.f('ix_ladder_events_client_id'), 'ladder_events', ['client_id'], unique=False)
    op.create_table('outcomes',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('client_id', sa.Text(), nullable=False),
    sa.Column('vacancy_id', sa.Text(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('stage', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_outcomes_client_id_clients')),
    sa.ForeignKeyConstraint(['vacancy_id'], ['vacancies.id'], name=op.f('fk_outcomes_vacancy_id_vacancies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outcomes'))
    )
    op.create_index(op.f('ix_outcomes_client_id'), 'outcomes', ['client_id'], unique=False)
    op.create_index(op.f('ix_outcomes_vacancy_id'), 'outcomes', ['vacancy_id'], unique=False)
    op.create_table('truth_ladder',
    sa.Column('client_id', sa.Text(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('p_rise_12m', sa.Double(), nullable=False),
    sa.Column('p_paid_12m', sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_truth_ladder_client_id_clients')),
    sa.PrimaryKeyConstraint('client_id', 'as_of', name=op.f('pk_truth_ladder'))
    )
    op.create_table('truth_match',
    sa.Column('client_id', sa.Text(), nullable=False),
    sa.Column('vacancy_id', sa.Text(), nullable=False),
    sa.Column('p_hire', sa.Double(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_truth_match_client_id_clients')),
    sa.ForeignKeyConstraint(['vacancy_id'], ['vacancies.id'], name=op.f('fk_truth_match_vacancy_id_vacancies')),
    sa.PrimaryKeyConstraint('client_id', 'vacancy_id', name=op.f('pk_truth_match'))
    )
    op.create_index(op.f('ix_truth_match_vacancy_id'), 'truth_match', ['vacancy_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_truth_match_vacancy_id'), table_name='truth_match')
    op.drop_table('truth_match')
    op.drop_table('truth_ladder')
    op.drop_index(op.f('ix_outcomes_vacancy_id'), table_name='outcomes')
    op.drop_index(op.f('ix_outcomes_client_id'), table_name='outcomes')
    op.drop_table('outcomes')
    op.drop_index(op.f('ix_ladder_events_client_id'), table_name='ladder_events')
    op.drop_table('ladder_events')
    op.drop_table('client_protected')
    op.drop_index(op.f('ix_assignments_coach_id'), table_name='assignments')
    op.drop_index(op.f('ix_assignments_client_id'), table_name='assignments')
    op.drop_table('assignments')
    op.drop_index(op.f('ix_vacancies_municipality'), table_name='vacancies')
    op.drop_index(op.f('ix_vacancies_employer_id'), table_name='vacancies')
    op.drop_table('vacancies')
    op.drop_index(op.f('ix_coach_absences_coach_id'), table_name='coach_absences')
    op.drop_table('coach_absences')
    op.drop_index(op.f('ix_clients_municipality'), table_name='clients')
    op.drop_index(op.f('ix_clients_coach_id'), table_name='clients')
    op.drop_table('clients')
    op.drop_index(op.f('ix_employers_municipality'), table_name='employers')
    op.drop_table('employers')
    op.drop_index(op.f('ix_coaches_team_id'), table_name='coaches')
    op.drop_table('coaches')
    op.drop_table('teams')
    op.drop_index(op.f('ix_proposals_status'), table_name='proposals')
    op.drop_index(op.f('ix_proposals_created_at'), table_name='proposals')
    op.drop_table('proposals')
    op.drop_table('municipalities')
    op.drop_index(op.f('ix_jobs_status'), table_name='jobs')
    op.drop_table('jobs')
    op.drop_index(op.f('ix_audit_log_at'), table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_index(op.f('ix_api_keys_prefix'), table_name='api_keys')
    op.drop_table('api_keys')
