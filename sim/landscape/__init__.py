"""landscape"""
